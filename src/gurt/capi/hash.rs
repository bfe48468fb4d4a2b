//! Exports of upstream `hash.c`. (Being ported: see README's status table.)
