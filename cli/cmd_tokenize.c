/* cli/cmd_tokenize.c - placeholder, being written. */
