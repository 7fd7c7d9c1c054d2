// The two spline passes of a KAN layer of cubic or linear splines, each in one loop over
// (row, input): the B-spline bases of the feature blocks [silu(x) | B_0(x) ... B_{G+k-1}(x)]
// the layer multiplies, and the spline part of the input gradient from the gradient of
// those blocks.
// Same arithmetic as the eager torch path (sklearn_kcm/nn/_basis.py), which stays the
// reference and the fallback. The SiLU values come from torch, whose exp is vectorised: a
// scalar exp per element here would cost more than the whole loop.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

constexpr int64_t kGrain = 64;  // rows per task

// Per input of one row: the interval index and the offset inside it, clamped to [0, G]
// as grid_position does (a NaN input gets interval 0 and a NaN offset). A loop of its
// own, free of scattered stores, so that the compiler vectorises it.
template <typename T>
inline void locate_row(const T* x, const T* lo, const T* step, int64_t inputs,
                       int64_t grid_size, int64_t* interval, T* offset) {
  const T top = T(grid_size), last = T(grid_size - 1);
  for (int64_t i = 0; i < inputs; ++i) {
    T s = (x[i] - lo[i]) / step[i];
    s = s < T(0) ? T(0) : (s > top ? top : s);
    T f = std::floor(s);
    f = f > last ? last : f;
    f = f == f ? f : T(0);  // NaN
    interval[i] = static_cast<int64_t>(f);
    offset[i] = s - f;
  }
}

template <typename T>
void features_kernel(const T* x, const T* silu, const T* lo, const T* step, T* out,
                     int64_t rows, int64_t inputs, int64_t grid_size, int64_t order) {
  const int64_t width = grid_size + order + 1;
  at::parallel_for(0, rows, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> interval(inputs);
    std::vector<T> offset(inputs);
    for (int64_t row = begin; row < end; ++row) {
      locate_row(x + row * inputs, lo, step, inputs, grid_size, interval.data(),
                 offset.data());
      T* blocks = out + row * inputs * width;
      const T* silus = silu + row * inputs;
      std::fill(blocks, blocks + inputs * width, T(0));
      for (int64_t i = 0; i < inputs; ++i) {
        blocks[i * width] = silus[i];
        T* bases = blocks + i * width + interval[i] + 1;
        if (order == 1) {  // the two hat functions of the interval
          bases[0] = T(1) - offset[i];
          bases[1] = offset[i];
          continue;
        }
        const T t = offset[i], t2 = t * t, u = T(1) - t, u2 = u * u;
        const T v0 = u2 * u / T(6), v3 = t2 * t / T(6);
        const T v1 = v3 * T(3) - t2 + T(2) / T(3);
        bases[0] = v0;
        bases[1] = v1;
        bases[2] = T(1) - v0 - v1 - v3;
        bases[3] = v3;
      }
    }
  });
}

template <typename T>
void grad_spline_kernel(const T* grad_features, const T* x, const T* lo, const T* step,
                        T* grad_x, int64_t rows, int64_t inputs, int64_t grid_size,
                        int64_t order) {
  const int64_t width = grid_size + order + 1;
  at::parallel_for(0, rows, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> interval(inputs);
    std::vector<T> offset(inputs);
    for (int64_t row = begin; row < end; ++row) {
      const T* xs = x + row * inputs;
      locate_row(xs, lo, step, inputs, grid_size, interval.data(), offset.data());
      const T* blocks = grad_features + row * inputs * width;
      T* gx = grad_x + row * inputs;
      for (int64_t i = 0; i < inputs; ++i) {
        const T* g = blocks + i * width + interval[i] + 1;
        T spline;
        if (order == 1) {  // the hat functions' slopes: -1 and 1
          spline = g[1] - g[0];
        } else {
          const T t = offset[i], t2 = t * t, u = T(1) - t;
          const T s0 = u * u * T(-0.5), s3 = t2 * T(0.5);
          const T s1 = s3 * T(3) - T(2) * t;
          const T s2 = -(s0 + s1 + s3);
          spline = g[0] * s0 + g[1] * s1 + g[2] * s2 + g[3] * s3;
        }
        const T v = xs[i];
        const bool on_grid = v >= lo[i] && v <= lo[i] + T(grid_size) * step[i];
        gx[i] = (on_grid ? spline : spline * T(0)) / step[i];
      }
    }
  });
}

void check(const torch::Tensor& x, const torch::Tensor& lo, const torch::Tensor& step,
           int64_t order) {
  TORCH_CHECK(x.device().is_cpu() && x.dim() == 2, "the KAN kernel takes a 2-D CPU tensor");
  TORCH_CHECK(order == 1 || order == 3, "the KAN kernel takes splines of order 1 or 3");
  TORCH_CHECK(lo.scalar_type() == x.scalar_type() && step.scalar_type() == x.scalar_type(),
              "the grid and the inputs must share a dtype");
}

}  // namespace

torch::Tensor features(torch::Tensor x, torch::Tensor silu, torch::Tensor lo,
                       torch::Tensor step, int64_t grid_size, int64_t order) {
  check(x, lo, step, order);
  TORCH_CHECK(silu.sizes() == x.sizes() && silu.scalar_type() == x.scalar_type(),
              "silu(x) must have the shape and dtype of x");
  x = x.contiguous();
  silu = silu.contiguous();
  lo = lo.contiguous();
  step = step.contiguous();
  auto out = torch::empty({x.size(0), x.size(1), grid_size + order + 1}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "kan_features", [&] {
    features_kernel<scalar_t>(x.data_ptr<scalar_t>(), silu.data_ptr<scalar_t>(),
                              lo.data_ptr<scalar_t>(),
                              step.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                              x.size(0), x.size(1), grid_size, order);
  });
  return out;
}

torch::Tensor grad_spline(torch::Tensor grad_features, torch::Tensor x, torch::Tensor lo,
                         torch::Tensor step, int64_t grid_size, int64_t order) {
  check(x, lo, step, order);
  x = x.contiguous();
  grad_features = grad_features.contiguous();
  lo = lo.contiguous();
  step = step.contiguous();
  auto grad_x = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "kan_grad_input", [&] {
    grad_spline_kernel<scalar_t>(grad_features.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                                lo.data_ptr<scalar_t>(), step.data_ptr<scalar_t>(),
                                grad_x.data_ptr<scalar_t>(), x.size(0), x.size(1),
                                grid_size, order);
  });
  return grad_x;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("features", &features, "feature blocks of a KAN layer, given silu(x)");
  m.def("grad_spline", &grad_spline, "spline part of the input gradient of a KAN layer");
}
