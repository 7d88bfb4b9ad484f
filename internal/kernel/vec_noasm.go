//go:build !amd64 || noasm

package kernel

// Without the assembly, useAVX2 is false and the entry points in vec.go
// never call these; they exist so that vec.go compiles everywhere.

func noAsm() { panic("kernel: assembly kernel called without assembly") }

func expAVX2(dst, x []float32)                           { noAsm() }
func sigmoidAVX2(dst, x []float32)                       { noAsm() }
func tanhAVX2(dst, x []float32)                          { noAsm() }
func lstmForwardRowAVX2(act, c, h, pre, cPrev []float32) { noAsm() }
func lstmBackwardRowAVX2(dpre, dcPrev, act, c, cPrev, dh, dc []float32) {
	noAsm()
}
func lstmBackwardRowNoDCAVX2(dpre, dcPrev, act, c, cPrev, dh []float32) { noAsm() }
func gruForwardRowAVX2(act, h, xg, hg, hPrev []float32)                 { noAsm() }
func gruBackwardRowAVX2(dxg, dhg, dhPrev, act, hg, hPrev, dh []float32) { noAsm() }
func axpyAVX2(alpha float32, x, y []float32)                            { noAsm() }
func scalAVX2(alpha float32, x []float32)                               { noAsm() }
func dotAVX2(x, y []float32) float32                                    { noAsm(); return 0 }
func sqDiffAVX2(grad, p, t []float32, scale float32) float64            { noAsm(); return 0 }
func sqDiffSumAVX2(p, t []float32) float64                              { noAsm(); return 0 }
func sumSqAVX2(x []float32) float64                                     { noAsm(); return 0 }
func maxAVX2(x []float32) float32                                       { noAsm(); return 0 }
func expShiftAVX2(dst, x []float32, m float32) float64                  { noAsm(); return 0 }
func sumExpShiftAVX2(x []float32, m float32) float64                    { noAsm(); return 0 }
func addConstAVX2(dst, x []float32, s float32)                          { noAsm() }
func adamAVX2(p, g, m, v []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, keep float32) {
	noAsm()
}
func reluAVX2(dst, x []float32)                             { noAsm() }
func tanhBackwardAVX2(dx, dy, y []float32)                  { noAsm() }
func sigmoidBackwardAVX2(dx, dy, y []float32)               { noAsm() }
func softmaxBackwardRowAVX2(dx, dp, p []float32, s float32) { noAsm() }
func adam64AVX2(p, g, m, v, vmax []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, wd, shrink float64) {
	noAsm()
}
func adam64AMSGradAVX2(p, g, m, v, vmax []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, wd, shrink float64) {
	noAsm()
}
func addToAVX2(dst, a, b []float32)        { noAsm() }
func mulToAVX2(dst, a, b []float32)        { noAsm() }
func reluBackwardAVX2(dx, dy, x []float32) { noAsm() }

func expAVX512(dst, x []float32)                           { noAsm() }
func sigmoidAVX512(dst, x []float32)                       { noAsm() }
func tanhAVX512(dst, x []float32)                          { noAsm() }
func lstmForwardRowAVX512(act, c, h, pre, cPrev []float32) { noAsm() }
func lstmBackwardRowAVX512(dpre, dcPrev, act, c, cPrev, dh, dc []float32) {
	noAsm()
}
func lstmBackwardRowNoDCAVX512(dpre, dcPrev, act, c, cPrev, dh []float32) { noAsm() }
func gruForwardRowAVX512(act, h, xg, hg, hPrev []float32)                 { noAsm() }
func gruBackwardRowAVX512(dxg, dhg, dhPrev, act, hg, hPrev, dh []float32) { noAsm() }
func scalAVX512(alpha float32, x []float32)                               { noAsm() }
func maxAVX512(x []float32) float32                                       { noAsm(); return 0 }
func expShiftAVX512(dst, x []float32, m float32) float64                  { noAsm(); return 0 }
func sumExpShiftAVX512(x []float32, m float32) float64                    { noAsm(); return 0 }
func addConstAVX512(dst, x []float32, s float32)                          { noAsm() }
func adamAVX512(p, g, m, v []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, keep float32) {
	noAsm()
}
func adam64AVX512(p, g, m, v, vmax []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, wd, shrink float64) {
	noAsm()
}
func adam64AMSGradAVX512(p, g, m, v, vmax []float32, beta1, omb1, beta2, omb2, stepSize, bc2Sqrt, eps, wd, shrink float64) {
	noAsm()
}
func axpyAVX512(alpha float32, x, y []float32)                 { noAsm() }
func dotAVX512(x, y []float32) float32                         { noAsm(); return 0 }
func sqDiffAVX512(grad, p, t []float32, scale float32) float64 { noAsm(); return 0 }
func sqDiffSumAVX512(p, t []float32) float64                   { noAsm(); return 0 }
func sumSqAVX512(x []float32) float64                          { noAsm(); return 0 }
