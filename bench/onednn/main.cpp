// recur-onednn times oneDNN's LSTM primitive (f32, CPU) on the shapes of
// recur bench's configurations, and checks it against recur on a small case.
// See README.md for the build and what the times cover.
//
//   recur-onednn bench --name NAME --T T --B B --I I --H H --L L
//                      --mode train|infer --threads N --steps S --repeat R --warmup W
//       prints one JSON line: the median ms per step over R repeats of S
//       steps after W untimed steps. train: forward (forward_training) and
//       backward (input, weight and bias gradients) of the L-layer stack;
//       infer: forward_inference.
//
//   recur-onednn check FILE
//       FILE (written by recur's test, little-endian): "RCDN", int32 T, B,
//       I, H, L; per layer k the PyTorch parameters weight_ih_lk (4H, I_k),
//       weight_hh_lk (4H, H), bias_ih_lk (4H), bias_hh_lk (4H), gates
//       i, f, g, o; x (T, B, I); dy (T, B, H), the gradient of the last
//       layer's output. Prints JSON: y (inference), y_train
//       (forward_training), h_n, c_n (L, B, H), dx (T, B, I) and per layer
//       dw_ih, dw_hh, db in PyTorch's layout (db is the gradient of both
//       bias_ih and bias_hh).
//
// Layouts: oneDNN's gates are i, f, c~, o, the same order as PyTorch's
// i, f, g, o (c~ is g), but its user weights are ldigo (in, gate, out), the
// transpose of PyTorch's (gate·out, in), and it has one bias, b_ih + b_hh.

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct Shape {
    int T = 0, B = 0, I = 0, H = 0, L = 1;
};

// Layer holds one LSTM layer's primitives and memories. Layers are chained
// (layer k+1 reads layer k's output) so that the first layer's input width
// may differ from H, which a single multi-layer primitive does not allow.
struct Layer {
    int in = 0, H = 0;
    // user weights in ldigo / ldgo, converted from PyTorch's layout
    memory w_l_user, w_i_user, bias;
    memory src, dst, dst_iter, dst_iter_c;
    // zero initial states and final-state gradients, and the unused
    // initial-state gradients (training)
    memory zero_iter, zero_iter_c, diff_iter, diff_iter_c;
    // inference
    lstm_forward::primitive_desc inf_pd;
    memory w_l_inf, w_i_inf;
    // training
    lstm_forward::primitive_desc fwd_pd;
    lstm_backward::primitive_desc bwd_pd;
    memory w_l_fwd, w_i_fwd, w_l_bwd, w_i_bwd, workspace;
    memory diff_src, diff_dst, diff_w_l, diff_w_i, diff_bias;
};

memory::desc md(const memory::dims &d, tag t) { return memory::desc(d, dt::f32, t); }

float *ptr(const memory &m) { return static_cast<float *>(m.get_data_handle()); }

// reordered returns m in the layout want, reordering when it differs.
memory reordered(engine &eng, stream &s, memory &m, const memory::desc &want) {
    if (m.get_desc() == want) return m;
    memory out(want, eng);
    reorder(m, out).execute(s, m, out);
    s.wait();
    return out;
}

// setWeights fills the layer's user weights from PyTorch's
// weight_ih (4H, in), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
void setWeights(Layer &l, const float *wih, const float *whh, const float *bih, const float *bhh) {
    int H = l.H;
    float *wl = ptr(l.w_l_user), *wi = ptr(l.w_i_user), *b = ptr(l.bias);
    for (int g = 0; g < 4; g++)
        for (int o = 0; o < H; o++) {
            int row = g * H + o;  // PyTorch row; ldigo index [i][g][o]
            for (int i = 0; i < l.in; i++) wl[(size_t)i * 4 * H + row] = wih[(size_t)row * l.in + i];
            for (int i = 0; i < H; i++) wi[(size_t)i * 4 * H + row] = whh[(size_t)row * H + i];
            b[row] = bih[row] + bhh[row];
        }
}

void buildLayer(Layer &l, engine &eng, stream &s, const Shape &sh, int in, bool train) {
    int T = sh.T, B = sh.B, H = sh.H;
    l.in = in;
    l.H = H;
    auto src_md = md({T, B, in}, tag::tnc), dst_md = md({T, B, H}, tag::tnc);
    auto wl_user = md({1, 1, in, 4, H}, tag::ldigo), wi_user = md({1, 1, H, 4, H}, tag::ldigo);
    auto wl_any = md({1, 1, in, 4, H}, tag::any), wi_any = md({1, 1, H, 4, H}, tag::any);
    auto b_md = md({1, 1, 4, H}, tag::ldgo);
    auto iter_md = md({1, 1, B, H}, tag::ldnc);
    memory::desc none;
    l.w_l_user = memory(wl_user, eng);
    l.w_i_user = memory(wi_user, eng);
    l.bias = memory(b_md, eng);
    l.src = memory(src_md, eng);
    l.dst = memory(dst_md, eng);
    l.dst_iter = memory(iter_md, eng);
    l.dst_iter_c = memory(iter_md, eng);
    auto dir = rnn_direction::unidirectional_left2right;
    lstm_forward::desc inf(prop_kind::forward_inference, dir, src_md, none, none, wl_any, wi_any, b_md, dst_md,
                           iter_md, iter_md);
    l.inf_pd = lstm_forward::primitive_desc(inf, eng);
    if (!train) return;
    lstm_forward::desc fwd(prop_kind::forward_training, dir, src_md, iter_md, iter_md, wl_any, wi_any, b_md, dst_md,
                           iter_md, iter_md);
    l.fwd_pd = lstm_forward::primitive_desc(fwd, eng);
    lstm_backward::desc bwd(prop_kind::backward, dir, src_md, iter_md, iter_md, wl_any, wi_any, b_md, dst_md, iter_md,
                            iter_md, src_md, iter_md, iter_md, wl_any, wi_any, b_md, dst_md, iter_md, iter_md);
    l.bwd_pd = lstm_backward::primitive_desc(bwd, eng, l.fwd_pd);
    l.workspace = memory(l.fwd_pd.workspace_desc(), eng);
    for (memory *m : {&l.zero_iter, &l.zero_iter_c, &l.diff_iter, &l.diff_iter_c}) {
        *m = memory(iter_md, eng);
        std::memset(m->get_data_handle(), 0, iter_md.get_size());
    }
    l.diff_src = memory(src_md, eng);
    l.diff_dst = memory(dst_md, eng);
    l.diff_w_l = memory(l.bwd_pd.diff_weights_layer_desc(), eng);
    l.diff_w_i = memory(l.bwd_pd.diff_weights_iter_desc(), eng);
    l.diff_bias = memory(l.bwd_pd.diff_bias_desc(), eng);
    (void)s;
}

// prepare reorders the user weights into the layouts the primitives chose.
// It runs once, outside the timings: a framework keeps its weights in the
// primitive's layout.
void prepare(Layer &l, engine &eng, stream &s, bool train) {
    l.w_l_inf = reordered(eng, s, l.w_l_user, l.inf_pd.weights_layer_desc());
    l.w_i_inf = reordered(eng, s, l.w_i_user, l.inf_pd.weights_iter_desc());
    if (!train) return;
    l.w_l_fwd = reordered(eng, s, l.w_l_user, l.fwd_pd.weights_layer_desc());
    l.w_i_fwd = reordered(eng, s, l.w_i_user, l.fwd_pd.weights_iter_desc());
    l.w_l_bwd = reordered(eng, s, l.w_l_user, l.bwd_pd.weights_layer_desc());
    l.w_i_bwd = reordered(eng, s, l.w_i_user, l.bwd_pd.weights_iter_desc());
}

struct Net {
    engine eng{engine::kind::cpu, 0};
    stream s{eng};
    std::vector<Layer> layers;
    std::vector<lstm_forward> inf, fwd;
    std::vector<lstm_backward> bwd;
};

// build makes the L chained layers; layer k > 0 reads layer k-1's dst.
void build(Net &n, const Shape &sh, bool train) {
    n.layers.resize(sh.L);
    for (int k = 0; k < sh.L; k++) {
        Layer &l = n.layers[k];
        buildLayer(l, n.eng, n.s, sh, k == 0 ? sh.I : sh.H, train);
        if (k > 0) l.src = n.layers[k - 1].dst;
        n.inf.emplace_back(l.inf_pd);
        if (train) {
            n.fwd.emplace_back(l.fwd_pd);
            n.bwd.emplace_back(l.bwd_pd);
            if (k > 0) n.layers[k - 1].diff_dst = l.diff_src;
        }
    }
}

void inferStep(Net &n) {
    for (size_t k = 0; k < n.layers.size(); k++) {
        Layer &l = n.layers[k];
        n.inf[k].execute(n.s, {{DNNL_ARG_SRC_LAYER, l.src},
                               {DNNL_ARG_WEIGHTS_LAYER, l.w_l_inf},
                               {DNNL_ARG_WEIGHTS_ITER, l.w_i_inf},
                               {DNNL_ARG_BIAS, l.bias},
                               {DNNL_ARG_DST_LAYER, l.dst},
                               {DNNL_ARG_DST_ITER, l.dst_iter},
                               {DNNL_ARG_DST_ITER_C, l.dst_iter_c}});
    }
    n.s.wait();
}

// stateArgs are a training layer's arguments shared by forward and
// backward: input, output, zero initial states, final states, workspace.
std::unordered_map<int, memory> stateArgs(const Layer &l) {
    return {{DNNL_ARG_SRC_LAYER, l.src},         {DNNL_ARG_BIAS, l.bias},
            {DNNL_ARG_SRC_ITER, l.zero_iter},    {DNNL_ARG_SRC_ITER_C, l.zero_iter_c},
            {DNNL_ARG_DST_LAYER, l.dst},         {DNNL_ARG_DST_ITER, l.dst_iter},
            {DNNL_ARG_DST_ITER_C, l.dst_iter_c}, {DNNL_ARG_WORKSPACE, l.workspace}};
}

// trainStep runs forward_training through the stack, then backward from
// the last layer's diff_dst (whatever it holds) down to the input.
void trainStep(Net &n) {
    size_t L = n.layers.size();
    for (size_t k = 0; k < L; k++) {
        Layer &l = n.layers[k];
        auto args = stateArgs(l);
        args.insert({{DNNL_ARG_WEIGHTS_LAYER, l.w_l_fwd}, {DNNL_ARG_WEIGHTS_ITER, l.w_i_fwd}});
        n.fwd[k].execute(n.s, args);
    }
    for (size_t k = L; k-- > 0;) {
        Layer &l = n.layers[k];
        // oneDNN accumulates into the weight gradients: zero them as a
        // training step must.
        for (memory *m : {&l.diff_w_l, &l.diff_w_i, &l.diff_bias})
            std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
        auto args = stateArgs(l);
        args.insert({{DNNL_ARG_WEIGHTS_LAYER, l.w_l_bwd},
                     {DNNL_ARG_WEIGHTS_ITER, l.w_i_bwd},
                     {DNNL_ARG_DIFF_SRC_ITER, l.diff_iter},
                     {DNNL_ARG_DIFF_SRC_ITER_C, l.diff_iter_c},
                     {DNNL_ARG_DIFF_DST_ITER, l.zero_iter},
                     {DNNL_ARG_DIFF_DST_ITER_C, l.zero_iter_c},
                     {DNNL_ARG_DIFF_SRC_LAYER, l.diff_src},
                     {DNNL_ARG_DIFF_WEIGHTS_LAYER, l.diff_w_l},
                     {DNNL_ARG_DIFF_WEIGHTS_ITER, l.diff_w_i},
                     {DNNL_ARG_DIFF_BIAS, l.diff_bias},
                     {DNNL_ARG_DIFF_DST_LAYER, l.diff_dst}});
        n.bwd[k].execute(n.s, args);
    }
    n.s.wait();
}

// lcg fills p with a deterministic uniform in [-a, a).
void lcg(float *p, size_t n, uint64_t &state, float a) {
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = a * (2.0f * float((state >> 40) & 0xffffff) / 16777216.0f - 1.0f);
    }
}

size_t count(const memory &m) { return m.get_desc().get_size() / sizeof(float); }

int argInt(int argc, char **argv, const char *name, int def) {
    for (int i = 2; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) {
            char *end;
            long v = std::strtol(argv[i + 1], &end, 10);
            if (*end != 0 || v < 0 || v > (1 << 24)) throw std::runtime_error(std::string(name) + ": bad value " + argv[i + 1]);
            return int(v);
        }
    return def;
}

std::string argStr(int argc, char **argv, const char *name, const char *def) {
    for (int i = 2; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

const char *isaName() {
    switch (get_effective_cpu_isa()) {
        case cpu_isa::sse41: return "sse41";
        case cpu_isa::avx: return "avx";
        case cpu_isa::avx2: return "avx2";
        case cpu_isa::avx2_vnni: return "avx2_vnni";
        case cpu_isa::avx512_core: return "avx512_core";
        case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case cpu_isa::avx512_core_amx: return "avx512_core_amx";
        default: return "other";
    }
}

int bench(int argc, char **argv) {
    Shape sh;
    sh.T = argInt(argc, argv, "--T", 0);
    sh.B = argInt(argc, argv, "--B", 0);
    sh.I = argInt(argc, argv, "--I", 0);
    sh.H = argInt(argc, argv, "--H", 0);
    sh.L = argInt(argc, argv, "--L", 1);
    std::string mode = argStr(argc, argv, "--mode", "train"), name = argStr(argc, argv, "--name", "");
    int threads = argInt(argc, argv, "--threads", 1), steps = argInt(argc, argv, "--steps", 10);
    int repeat = argInt(argc, argv, "--repeat", 5), warmup = argInt(argc, argv, "--warmup", 2);
    if (sh.T < 1 || sh.B < 1 || sh.I < 1 || sh.H < 1 || sh.L < 1 || threads < 1 || steps < 1 || repeat < 1)
        throw std::runtime_error("bench: --T, --B, --I, --H, --L, --threads, --steps and --repeat must be positive");
    if (mode != "train" && mode != "infer") throw std::runtime_error("bench: --mode must be train or infer, not " + mode);
    bool train = mode == "train";
    omp_set_num_threads(threads);
    Net n;
    build(n, sh, train);
    uint64_t st = 1;
    for (Layer &l : n.layers) {
        lcg(ptr(l.w_l_user), count(l.w_l_user), st, 0.1f);
        lcg(ptr(l.w_i_user), count(l.w_i_user), st, 0.1f);
        lcg(ptr(l.bias), count(l.bias), st, 0.1f);
        prepare(l, n.eng, n.s, train);
    }
    lcg(ptr(n.layers[0].src), count(n.layers[0].src), st, 1.0f);
    if (train) lcg(ptr(n.layers.back().diff_dst), count(n.layers.back().diff_dst), st, 1.0f);
    auto step = [&] { train ? trainStep(n) : inferStep(n); };
    for (int i = 0; i < warmup; i++) step();
    std::vector<double> ms(repeat);
    for (int r = 0; r < repeat; r++) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < steps; i++) step();
        std::chrono::duration<double, std::milli> d = std::chrono::steady_clock::now() - t0;
        ms[r] = d.count() / steps;
    }
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    double med = repeat % 2 ? s[repeat / 2] : (s[repeat / 2 - 1] + s[repeat / 2]) / 2;
    const dnnl_version_t *v = dnnl_version();
    std::printf(
        "{\"peer\": \"onednn\", \"config\": \"%s\", \"mode\": \"%s\", \"threads\": %d, \"ms_per_step\": %.6f, "
        "\"ms_min\": %.6f, \"ms_max\": %.6f, \"steps\": %d, \"repeat\": %d, \"version\": \"%d.%d.%d\", \"isa\": \"%s\"}\n",
        name.c_str(), mode.c_str(), omp_get_max_threads(), med, s[0], s[repeat - 1], steps, repeat, v->major, v->minor,
        v->patch, isaName());
    return 0;
}

std::vector<float> readFloats(std::ifstream &f, size_t n, const char *what) {
    std::vector<float> v(n);
    if (!f.read(reinterpret_cast<char *>(v.data()), std::streamsize(n * sizeof(float))))
        throw std::runtime_error(std::string("check file ends inside ") + what);
    return v;
}

void printArray(const char *name, const float *p, size_t n, bool last = false) {
    std::printf("\"%s\": [", name);
    for (size_t i = 0; i < n; i++) std::printf(i ? ", %.9g" : "%.9g", p[i]);
    std::printf("]%s\n", last ? "" : ",");
}

// printGrads prints layer k's weight gradients in PyTorch's layout.
void printGrads(Net &n, int k) {
    Layer &l = n.layers[k];
    int H = l.H;
    memory gl(l.w_l_user.get_desc(), n.eng), gi(l.w_i_user.get_desc(), n.eng);
    reorder(l.diff_w_l, gl).execute(n.s, l.diff_w_l, gl);
    reorder(l.diff_w_i, gi).execute(n.s, l.diff_w_i, gi);
    n.s.wait();
    std::vector<float> wih((size_t)4 * H * l.in), whh((size_t)4 * H * H);
    for (int row = 0; row < 4 * H; row++) {
        for (int i = 0; i < l.in; i++) wih[(size_t)row * l.in + i] = ptr(gl)[(size_t)i * 4 * H + row];
        for (int i = 0; i < H; i++) whh[(size_t)row * H + i] = ptr(gi)[(size_t)i * 4 * H + row];
    }
    std::string s = std::to_string(k);
    printArray(("dw_ih_l" + s).c_str(), wih.data(), wih.size());
    printArray(("dw_hh_l" + s).c_str(), whh.data(), whh.size());
    printArray(("db_l" + s).c_str(), ptr(l.diff_bias), 4 * H);
}

int check(const char *path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(std::string("check: cannot open ") + path);
    char magic[4];
    int32_t dims[5];
    if (!f.read(magic, 4) || std::memcmp(magic, "RCDN", 4) != 0) throw std::runtime_error("check: file does not start with RCDN");
    if (!f.read(reinterpret_cast<char *>(dims), sizeof dims)) throw std::runtime_error("check: short header");
    for (int d : dims)
        if (d < 1 || d > 4096) throw std::runtime_error("check: header dimension out of [1, 4096]");
    Shape sh{dims[0], dims[1], dims[2], dims[3], dims[4]};
    Net n;
    build(n, sh, true);
    int H = sh.H;
    for (int k = 0; k < sh.L; k++) {
        Layer &l = n.layers[k];
        auto wih = readFloats(f, (size_t)4 * H * l.in, "weight_ih"), whh = readFloats(f, (size_t)4 * H * H, "weight_hh");
        auto bih = readFloats(f, 4 * H, "bias_ih"), bhh = readFloats(f, 4 * H, "bias_hh");
        setWeights(l, wih.data(), whh.data(), bih.data(), bhh.data());
        prepare(l, n.eng, n.s, true);
    }
    auto x = readFloats(f, (size_t)sh.T * sh.B * sh.I, "x");
    auto dy = readFloats(f, (size_t)sh.T * sh.B * H, "dy");
    std::memcpy(ptr(n.layers[0].src), x.data(), x.size() * sizeof(float));
    std::memcpy(ptr(n.layers.back().diff_dst), dy.data(), dy.size() * sizeof(float));
    std::printf("{\n");
    inferStep(n);
    const Layer &top = n.layers.back();
    printArray("y", ptr(top.dst), (size_t)sh.T * sh.B * H);
    std::vector<float> hn, cn;
    for (Layer &l : n.layers) {
        hn.insert(hn.end(), ptr(l.dst_iter), ptr(l.dst_iter) + sh.B * H);
        cn.insert(cn.end(), ptr(l.dst_iter_c), ptr(l.dst_iter_c) + sh.B * H);
    }
    printArray("h_n", hn.data(), hn.size());
    printArray("c_n", cn.data(), cn.size());
    trainStep(n);
    printArray("y_train", ptr(top.dst), (size_t)sh.T * sh.B * H);
    for (int k = 0; k < sh.L; k++) printGrads(n, k);
    printArray("dx", ptr(n.layers[0].diff_src), x.size(), true);
    std::printf("}\n");
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        if (argc >= 2 && std::strcmp(argv[1], "bench") == 0) return bench(argc, argv);
        if (argc == 3 && std::strcmp(argv[1], "check") == 0) return check(argv[2]);
        std::fprintf(stderr, "usage: recur-onednn bench --T T --B B --I I --H H --L L --mode train|infer ...\n"
                             "       recur-onednn check FILE\n");
        return 2;
    } catch (const dnnl::error &e) {
        std::fprintf(stderr, "recur-onednn: oneDNN: %s (status %d)\n", e.what(), int(e.status));
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "recur-onednn: %s\n", e.what());
        return 1;
    }
}
