/* core/safetensors.h - placeholder, being written. */
