/* core/safetensors.c - placeholder, being written. */
