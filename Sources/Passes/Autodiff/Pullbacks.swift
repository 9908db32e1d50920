// Pullbacks: the signature of a reverse-mode rule. The rules themselves live with their ops in
// Operators/ (`Op.pullback`, through the op's family); FusedConvTransposeBatchNorm's, the
// longest, in Pullbacks+ConvTransposeBatchNorm.swift, with the training BatchNorm backward it
// shares with BatchNormTraining in Pullbacks+BatchNorm.swift.
//
// Contract: a rule receives the builder, the forward node, the cotangent of each output (nil
// when the loss does not depend on that output) and, per input, whether its gradient is
// wanted; it appends ordinary ops through the builder and returns one cotangent per input
// (nil where not wanted or identically zero), shaped like that input. Rules read forward
// values (inputs and outputs) freely; while the builder's `createGraph` is true (the default)
// they emit only differentiable ops, so a second `gradients` call yields second-order
// gradients; without it the training BatchNorm rules emit BatchNormTrainingGrad, which has no rule. Ops without a rule (`Op.pullback` is
// nil: the windowed pools, the epilogue-fused inference ops, Constant) are errors when they lie
// on a differentiated path; training-mode BatchNormalization and Dropout are errors from their
// rules (expand them first).

import GraphIR

public typealias Pullback = (GradientBuilder, Node, [ValueID?], [Bool]) throws -> [ValueID?]

/// Namespace of the rules that are too long to sit in their family file.
public enum Pullbacks {}
