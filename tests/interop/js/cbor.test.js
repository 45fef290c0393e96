// CBOR suite: to be written
