//! Upstream `telemetry.c`. (Being ported: see README's status table.)
