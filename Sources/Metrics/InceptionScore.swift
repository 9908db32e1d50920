// InceptionScore: IS = exp(E_x KL(p(y|x) ‖ p(y))) over contiguous splits (gan-metrics.md §2).
//
// Contract: OpenAI improved-gan convention — rows [i·N/S, (i+1)·N/S) (integer division, no
// shuffle) form split i; p(y) is the split's mean row; the split score is
// exp(mean over rows of Σ_y p(y|x)(log p(y|x) − log p(y))), probabilities clamped to ≥ 1e-12
// before logs; the result is the mean and POPULATION std over the splits. Also: softmax of
// logits, and classifier accuracy with respect to a requested class.

import Foundation

public struct InceptionScore: Equatable, Sendable {
    public var mean: Double
    public var std: Double
    public var splitScores: [Double]

    /// IS of `rows` probability rows of `classes` entries each (row-major).
    public static func compute(probabilities p: [Double], classes k: Int, splits: Int = 10) -> InceptionScore {
        precondition(k > 0 && p.count % k == 0, "probabilities must be rows of \(k)")
        let n = p.count / k
        let s = max(1, min(splits, n))
        var scores: [Double] = []
        for i in 0..<s {
            let lo = i * n / s, hi = (i + 1) * n / s
            guard hi > lo else { continue }
            var py = [Double](repeating: 0, count: k)
            for r in lo..<hi { for c in 0..<k { py[c] += p[r * k + c] } }
            let logPy = py.map { log(max($0 / Double(hi - lo), 1e-12)) }
            var kl = 0.0
            for r in lo..<hi {
                var row = 0.0
                for c in 0..<k {
                    let q = max(p[r * k + c], 1e-12)
                    row += p[r * k + c] * (log(q) - logPy[c])
                }
                kl += row
            }
            scores.append(exp(kl / Double(hi - lo)))
        }
        let m = scores.reduce(0, +) / Double(scores.count)
        let v = scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(scores.count)
        return InceptionScore(mean: m, std: v.squareRoot(), splitScores: scores)
    }

    /// IS from logits (row-wise softmax first).
    public static func compute(logits: [Float], classes k: Int, splits: Int = 10) -> InceptionScore {
        compute(probabilities: Classification.softmax(logits, classes: k), classes: k, splits: splits)
    }
}

public enum Classification {
    /// Row-wise softmax in Double.
    public static func softmax(_ logits: [Float], classes k: Int) -> [Double] {
        precondition(k > 0 && logits.count % k == 0, "logits must be rows of \(k)")
        var out = [Double](repeating: 0, count: logits.count)
        for r in 0..<(logits.count / k) {
            var mx = -Double.infinity
            for c in 0..<k { mx = max(mx, Double(logits[r * k + c])) }
            var sum = 0.0
            for c in 0..<k { let e = exp(Double(logits[r * k + c]) - mx); out[r * k + c] = e; sum += e }
            for c in 0..<k { out[r * k + c] /= sum }
        }
        return out
    }

    /// Row-wise argmax.
    public static func argmax(_ scores: [Float], classes k: Int) -> [Int] {
        (0..<(scores.count / k)).map { r in
            var best = 0
            for c in 1..<max(k, 1) where scores[r * k + c] > scores[r * k + best] { best = c }
            return best
        }
    }

    /// Fraction of rows whose argmax is `target`.
    public static func accuracy(logits: [Float], classes k: Int, target: Int) -> Double {
        let a = argmax(logits, classes: k)
        return a.isEmpty ? 0 : Double(a.filter { $0 == target }.count) / Double(a.count)
    }

    /// Fraction of rows whose argmax equals its label.
    public static func accuracy(logits: [Float], classes k: Int, labels: [Int]) -> Double {
        let a = argmax(logits, classes: k)
        precondition(a.count == labels.count, "\(a.count) rows, \(labels.count) labels")
        return a.isEmpty ? 0 : Double(zip(a, labels).filter { $0 == $1 }.count) / Double(a.count)
    }
}
