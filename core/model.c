/* core/model.c - placeholder, being written. */
