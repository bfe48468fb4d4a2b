//! Upstream `debug.c`. (Being ported: see README's status table.)
