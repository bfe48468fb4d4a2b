//! Exports of upstream `heap.c`. (Being ported: see README's status table.)
