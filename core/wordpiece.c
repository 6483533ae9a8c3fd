/* core/wordpiece.c - placeholder, being written. */
