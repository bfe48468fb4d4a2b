//! Upstream `hlct.c`. (Being ported: see README's status table.)
