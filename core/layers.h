/* core/layers.h - placeholder, being written. */
