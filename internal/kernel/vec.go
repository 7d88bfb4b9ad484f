package kernel

// Sigmoid sets dst[i] = 1/(1+exp(-x[i])). dst may alias x.
func Sigmoid(dst, x []float32) { checkLen("Sigmoid dst", dst, len(x)); sigmoidGeneric(dst, x) }

// Tanh sets dst[i] = tanh(x[i]). dst may alias x.
func Tanh(dst, x []float32) { checkLen("Tanh dst", dst, len(x)); tanhGeneric(dst, x) }

// Exp sets dst[i] = exp(x[i]). dst may alias x.
func Exp(dst, x []float32) { checkLen("Exp dst", dst, len(x)); expGeneric(dst, x) }

// Axpy sets y[i] += alpha*x[i].
func Axpy(alpha float32, x, y []float32) { checkLen("Axpy y", y, len(x)); axpyGeneric(alpha, x, y) }

// Dot returns Σ x[i]*y[i].
func Dot(x, y []float32) float32 { checkLen("Dot y", y, len(x)); return dotGeneric(x, y) }

// Scal sets x[i] *= alpha.
func Scal(alpha float32, x []float32) { scalGeneric(alpha, x) }

// SumSq returns Σ x[i]² accumulated in float64.
func SumSq(x []float32) float64 { return sumSqGeneric(x) }

// LSTMForward applies the fused LSTM cell nonlinearity to B rows; see
// lstmForwardGeneric for the exact computation. act may alias pre.
func LSTMForward(act, c, h, pre, cPrev []float32, B, H int) {
	checkLen("LSTMForward pre", pre, B*4*H)
	checkLen("LSTMForward act", act, B*4*H)
	checkLen("LSTMForward cPrev", cPrev, B*H)
	lstmForwardGeneric(act, c, h, pre, cPrev, B, H)
}

// LSTMBackward is the backward of LSTMForward; see lstmBackwardGeneric.
func LSTMBackward(dpre, dcPrev, act, c, cPrev, dh, dc []float32, B, H int) {
	checkLen("LSTMBackward dpre", dpre, B*4*H)
	lstmBackwardGeneric(dpre, dcPrev, act, c, cPrev, dh, dc, B, H)
}

// GRUForward applies the fused GRU cell nonlinearity; see gruForwardGeneric.
func GRUForward(act, h, xg, hg, hPrev []float32, B, H int) {
	checkLen("GRUForward xg", xg, B*3*H)
	gruForwardGeneric(act, h, xg, hg, hPrev, B, H)
}

// GRUBackward is the backward of GRUForward; see gruBackwardGeneric.
func GRUBackward(dxg, dhg, dhPrev, act, hg, hPrev, dh []float32, B, H int) {
	checkLen("GRUBackward dxg", dxg, B*3*H)
	gruBackwardGeneric(dxg, dhg, dhPrev, act, hg, hPrev, dh, B, H)
}

// SoftmaxRows writes the softmax of each row of x (rows×cols) into dst.
func SoftmaxRows(dst, x []float32, rows, cols int) {
	checkLen("SoftmaxRows x", x, rows*cols)
	softmaxRowsGeneric(dst, x, rows, cols)
}

// LogSoftmaxRows writes the log-softmax of each row of x into dst.
func LogSoftmaxRows(dst, x []float32, rows, cols int) {
	checkLen("LogSoftmaxRows x", x, rows*cols)
	logSoftmaxRowsGeneric(dst, x, rows, cols)
}

// Adam applies one Adam update in place; see adamGeneric.
func Adam(p, g, m, v []float32, beta1, beta2, stepSize, bc2Sqrt, eps float32) {
	checkLen("Adam g", g, len(p))
	adamGeneric(p, g, m, v, beta1, beta2, stepSize, bc2Sqrt, eps)
}
