// ModelLoading: model and tensor files by extension, for the command-line tools.
//
// Contract: `.pb`/`.onnx` models are read by ONNXImport, `.ir` by Graph.parse (+ verify); every
// error is a `CommandError` whose message starts with the path. Tensors are TensorProto files.

import Foundation
import GraphIR
import ONNX

/// Loads a graph by extension: `.pb`/`.onnx` (ONNX ModelProto) or `.ir` (IR text).
public func loadGraph(path: String) throws -> Graph {
    let lower = path.lowercased()
    if lower.hasSuffix(".pb") || lower.hasSuffix(".onnx") {
        return try ONNXImport.graph(path: path)
    }
    if lower.hasSuffix(".ir") { return try GraphSources.readIRText(path) }
    throw CommandError("\(path): unknown model format (expected .ir, .pb or .onnx)")
}

/// Writes a graph by extension: `.pb`/`.onnx` (ONNX, at `opset`) or `.ir` (IR text).
public func saveGraph(_ g: Graph, path: String, opset: Int = 17) throws {
    let lower = path.lowercased()
    if lower.hasSuffix(".pb") || lower.hasSuffix(".onnx") {
        try ONNXExport.write(g, to: path, opset: opset, producerVersion: GannetVersion.string)
        return
    }
    guard lower.hasSuffix(".ir") else { throw CommandError("\(path): unknown model format (expected .ir, .pb or .onnx)") }
    do {
        try AtomicFile.write(Array(g.text.utf8), to: path)
    } catch {
        throw IOFailure.error(error, path: path, doing: "write")
    }
}

/// Reads a TensorProto (`.pb`) file.
public func loadTensor(path: String) throws -> Tensor {
    try loadNamedTensor(path: path).tensor
}

/// Reads a TensorProto (`.pb`) file with the name it stores.
public func loadNamedTensor(path: String) throws -> (name: String, tensor: Tensor) {
    try TensorProtoIO.read(path: path)
}

/// Writes a TensorProto (`.pb`) file.
public func saveTensor(_ t: Tensor, name: String = "", path: String) throws {
    try TensorProtoIO.write(t, name: name, path: path)
}
