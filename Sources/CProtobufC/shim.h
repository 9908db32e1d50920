// CProtobufC: Debian's libprotobuf-c (apt: libprotobuf-c-dev), the runtime of protoc-c code.
#ifndef GANNET_CPROTOBUFC_SHIM_H
#define GANNET_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
