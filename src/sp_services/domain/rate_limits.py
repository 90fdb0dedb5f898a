"""Usage plans per operation: (rate per second, burst). Source: services.json operation descriptions
for the Services API; our own for the analytics and report operations (docs/design.md §6), which
read much more per request."""

from __future__ import annotations

RATE_LIMITS: dict[str, tuple[float, int]] = {
    "getServiceJobByServiceJobId": (20.0, 40),
    "cancelServiceJobByServiceJobId": (5.0, 20),
    "completeServiceJobByServiceJobId": (5.0, 20),
    "getServiceJobs": (10.0, 40),
    "addAppointmentForServiceJobByServiceJobId": (5.0, 20),
    "rescheduleAppointmentForServiceJobByServiceJobId": (5.0, 20),
    "assignAppointmentResources": (1.0, 2),
    "setAppointmentFulfillmentData": (5.0, 20),
    "getRangeSlotCapacity": (5.0, 20),
    "getFixedSlotCapacity": (5.0, 20),
    "updateSchedule": (5.0, 20),
    "createReservation": (5.0, 20),
    "updateReservation": (5.0, 20),
    "cancelReservation": (5.0, 20),
    "getAppointmmentSlotsByJobId": (5.0, 20),
    "getAppointmentSlots": (20.0, 40),
    "createServiceDocumentUploadDestination": (5.0, 20),
    # Post-fulfillment analytics and the Manage Jobs report (ours).
    "getTechnicianPerformance": (2.0, 10),
    "getStorePerformance": (2.0, 10),
    "getCapacityAnalytics": (2.0, 10),
    "getPaymentAnalytics": (2.0, 10),
    "getJobsReport": (0.5, 2),
}
