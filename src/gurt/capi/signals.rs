//! Exports of upstream `signals.c`. (Being ported: see README's status table.)
