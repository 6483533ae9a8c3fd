/* core/tokenizer_impl.h - placeholder, being written. */
