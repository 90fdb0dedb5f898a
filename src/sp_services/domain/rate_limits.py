"""Usage plans per operation: (rate per second, burst). Source: services.json operation descriptions."""

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
}
