/* core/tokenizer.c - placeholder, being written. */
