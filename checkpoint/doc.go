// Package checkpoint reads and writes recur's model and checkpoint files.
//
// A file is a safetensors file: an 8-byte little-endian header length n, a
// JSON header of n bytes, and the raw little-endian tensor bytes. The header
// maps each tensor name to its dtype, shape and byte range
//
//	{"lstm.weight_ih_l0": {"dtype": "F32", "shape": [16, 3], "data_offsets": [0, 192]},
//	 "__metadata__": {"recur_format": "1", "spec": "{...}"}}
//
// Tensors are stored under PyTorch state_dict names, so a recurrent layer
// saved by recur loads into torch.nn.LSTM.load_state_dict unchanged (through
// safetensors.torch.load_file, or a few lines of struct and json). The
// string-to-string metadata carries everything else: the model spec,
// preprocessing state (scaler, vocabulary), metrics, training state and the
// format version under MetaFormat. Optimizer state is stored as ordinary
// tensors under the OptimPrefix. Tensors are F32, except the weights of a
// quantized model: I8 for int8 and BF16 (safetensors' bfloat16, which
// safetensors.torch.load_file reads as torch.bfloat16) for bf16.
//
// Write is atomic: it writes a temporary file in the destination directory,
// syncs it, renames it over the destination and syncs the directory, so a
// crash leaves either the old file or the new one. Read validates the whole
// header (sizes, dtypes, shapes, offsets that must tile the data area exactly)
// before it allocates any tensor, and rejects files from a newer format
// version; it is fuzzed by FuzzRead.
package checkpoint
