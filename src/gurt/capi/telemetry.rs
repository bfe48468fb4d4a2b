//! Exports of upstream `telemetry.c`. (Being ported: see README's status table.)
