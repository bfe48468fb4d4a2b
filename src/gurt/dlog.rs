//! Upstream `dlog.c`. (Being ported: see README's status table.)
