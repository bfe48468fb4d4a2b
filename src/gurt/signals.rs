//! Upstream `signals.c`. (Being ported: see README's status table.)
