//! Exports of upstream `fault_inject.c`. (Being ported: see README's status table.)
