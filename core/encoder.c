/* core/encoder.c - placeholder, being written. */
