//! Exports of upstream `dlog.c`. (Being ported: see README's status table.)
