//! Exports of upstream `hlc.c`. (Being ported: see README's status table.)
