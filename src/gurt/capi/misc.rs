//! Exports of upstream `misc.c`. (Being ported: see README's status table.)
