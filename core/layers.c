/* core/layers.c - placeholder, being written. */
