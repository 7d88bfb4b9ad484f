// Package pytorch reads the state dicts PyTorch saves, without Python.
//
// torch.save(model.state_dict(), path) writes (from PyTorch 1.6 on) a zip
// archive: ARCHIVE/data.pkl, the pickled OrderedDict, and one entry
// ARCHIVE/data/KEY per tensor storage, its raw little-endian bytes. [Read]
// unpickles data.pkl with a reader restricted to what a state dict holds,
// the rule PyTorch's own torch.load(weights_only=True) follows: the
// opcodes that build dicts, lists, tuples, strings, numbers and booleans;
// calls of collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// torch._utils._rebuild_parameter; the typed storages (torch.FloatStorage,
// DoubleStorage, HalfStorage, BFloat16Storage and the integer ones) as
// element types of persistent ids ('storage', type, key, location,
// numel); and BUILD only to set an OrderedDict's attributes (the state
// dict's _metadata, which is dropped). Any other global — a class of the
// model, numpy, builtins such as eval — and any other opcode is an error
// naming it: nothing in the file is executed or instantiated.
//
// The tensors come back as float32 tensors by key, in the file's order,
// views (offset, sizes, strides) resolved. A dict inside the saved one (a
// checkpoint {"model": state_dict, "epoch": 3}) contributes its tensors
// under "model.KEY". Sizes are checked before anything is allocated: a
// view must lie inside its storage, a storage entry must hold exactly its
// elements, data.pkl is at most MaxPickle bytes, and the unpickler bounds
// its stack and memo; the reader is fuzzed. Files of PyTorch before 1.6
// (not zip archives) and TorchScript archives (torch.jit.save) are
// refused.
//
// recur import --from pytorch names the tensors as a spec's parameters;
// model files recur writes load into torch.nn modules directly (they are
// safetensors under PyTorch's names).
package pytorch
