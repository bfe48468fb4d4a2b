//! Upstream `slab.c`. (Being ported: see README's status table.)
