// Package onnxpb holds the Go types of the ONNX file format (ModelProto,
// GraphProto, NodeProto, TensorProto, ...), generated from onnx.proto.
//
// onnx.proto is the ONNX project's file (Apache-2.0, its SPDX header kept),
// copied unchanged from Debian's python3-onnx 1.12.0
// (/usr/lib/python3/dist-packages/onnx/onnx.proto): the version whose
// checker the export tests run, IR version 8, operator sets up to 17.
// onnx.pb.go is generated from it by protoc (Debian's protobuf-compiler,
// libprotoc 3.21.12) with protoc-gen-go v1.36.12:
//
//	apt-get install -y protobuf-compiler
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go generate ./internal/onnxpb
//
// The generated code needs the runtime of google.golang.org/protobuf
// (proto.Marshal and the reflection behind it), the one module recur
// takes for ONNX: writing the protobuf wire format by hand would be a
// second, untested encoder of a format that module already implements and
// fuzzes. Only package onnx imports this one.
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/recur-ml/recur/internal/onnxpb onnx.proto
