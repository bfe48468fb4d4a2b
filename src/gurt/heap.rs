//! Upstream `heap.c`. (Being ported: see README's status table.)
