"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders").

Two stacks of ``num_layers`` gated layers.  With ``y = tanh(a) * sigmoid(b)``
for the two halves ``(a, b)`` of a ``2F``-channel pre-activation:

    v_pre = conv_v(v) + e_v[class]                     v <- gate(v_pre)
    h_pre = conv_h(h) + 1x1(v_pre) + e_h[class]        h <- 1x1(gate(h_pre)) + h

The vertical kernel (``(k//2 + 1) x k``, :func:`jax_ar.masks.gated_vertical_kernel_mask`)
sees the rows above and the output row; in the first layer the output row is
masked, so every vertical-stack output at row i depends only on rows < i (the
"down-shift").  The horizontal kernel (``1 x (k//2 + 1)``,
:func:`jax_ar.masks.gated_horizontal_kernel_mask`) sees the pixels to the left
of and at the output; in the first layer the pixel itself is masked (the
"right-shift").  The vertical-to-horizontal 1x1 link therefore adds every
pixel above (within the stack's cone) to the horizontal stack: no blind spot.
The residual connection is skipped in the first layer (1 input channel).
Class-conditional (``num_classes > 0``): a learned per-layer embedding of the
label is added to both stacks' pre-activations in every layer.

``step_mode="naive"`` recomputes the whole network each pixel.  ``"cached"``
keeps zero-padded caches of each layer's vertical-stack input (an image) and
horizontal-stack input (the current row).  When a new row i starts (j = 0) the
vertical stacks of all layers are computed for the whole row at once (they
depend only on rows < i, already known) and their links to the horizontal
stack are stored; each pixel then costs only the horizontal stack: O(layers
(k//2 + 1) F^2) per pixel plus O(layers W k^2 F^2) per row.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jax_ar import errors
from jax_ar.layers.masked_conv import MaskedConv2D
from jax_ar.models.pixelcnn import (ImageARModel, check_image_config, encode_pixels, pixel_dist,
                                    window, write_pixel)
from jax_ar.models.registry import register


def gate(pre_Bx___x2F):
    """tanh(first half) * sigmoid(second half) along the last axis."""
    a, b = jnp.split(pre_Bx___x2F, 2, axis=-1)
    return jnp.tanh(a) * jax.nn.sigmoid(b)


class GatedPixelCNNNet(nn.Module):
    height: int
    width: int
    levels: int = 2
    features: int = 16           # F
    num_layers: int = 5
    first_kernel: int = 7
    kernel: int = 3
    head_features: int = 32
    num_classes: int = 0
    step_mode: str = "cached"

    def kernel_of(self, layer: int) -> int:
        return self.first_kernel if layer == 0 else self.kernel

    def setup(self):
        F, L = self.features, self.num_layers
        self.P = 1 if self.levels == 2 else self.levels
        cin = [1] + [F] * (L - 1)
        self.conv_v = [MaskedConv2D(cin[l], 2 * F, "v_first" if l == 0 else "v", self.kernel_of(l),
                                    name=f"layer{l}_conv_v") for l in range(L)]
        self.conv_h = [MaskedConv2D(cin[l], 2 * F, "h_first" if l == 0 else "h", self.kernel_of(l),
                                    name=f"layer{l}_conv_h") for l in range(L)]
        self.link = [nn.Dense(2 * F, name=f"layer{l}_v_to_h") for l in range(L)]
        self.h_out = [nn.Dense(F, name=f"layer{l}_h_out") for l in range(L)]
        if self.num_classes:
            self.embed = [nn.Embed(self.num_classes, 4 * F, embedding_init=nn.initializers.normal(0.02),
                                   name=f"layer{l}_class_embed") for l in range(L)]
        self.head1 = nn.Dense(self.head_features)
        self.head2 = nn.Dense(self.P)

    def _cond_bias(self, l, cond_B):
        """(e_v, e_h), each [B, 2F], or zeros when unconditional."""
        if not self.num_classes:
            return 0.0, 0.0
        e = self.embed[l](cond_B)
        return e[:, :2 * self.features], e[:, 2 * self.features:]

    def _head(self, h):
        return self.head2(nn.relu(self.head1(nn.relu(h))))

    def __call__(self, x_BxD, cond_B=None):
        B, H, W = x_BxD.shape[0], self.height, self.width
        v = h = encode_pixels(x_BxD, self.levels).reshape(B, H, W, 1)
        for l in range(self.num_layers):
            ev, eh = self._cond_bias(l, cond_B)
            ev = ev if not self.num_classes else ev[:, None, None, :]
            eh = eh if not self.num_classes else eh[:, None, None, :]
            v_pre = self.conv_v[l](v) + ev
            h_pre = self.conv_h[l](h) + self.link[l](v_pre) + eh
            v = gate(v_pre)
            h = self.h_out[l](gate(h_pre)) + (h if l > 0 else 0.0)
        return self._head(h).reshape(B, H * W, self.P)

    # ---------------------------------------------------------- sampling
    def init_cache(self, batch_size, cond_B=None):
        t = jnp.zeros((), jnp.int32)
        cond = (jnp.zeros((batch_size,), jnp.int32) if cond_B is None
                else jnp.asarray(cond_B, jnp.int32).reshape(batch_size))
        if self.step_mode == "naive":
            return {"t": t, "cond_B": cond, "x_BxD": jnp.zeros((batch_size, self.height * self.width), jnp.int32)}
        H, W, F = self.height, self.width, self.features
        v_in, h_in = [], []
        for l in range(self.num_layers):
            c, C = self.kernel_of(l) // 2, (1 if l == 0 else F)
            v_in.append(jnp.zeros((batch_size, H + c, W + 2 * c, C), jnp.float32))   # padded top/left/right
            h_in.append(jnp.zeros((batch_size, 1, W + c, C), jnp.float32))           # current row, padded left
        return {"t": t, "cond_B": cond, "v_in": v_in, "h_in": h_in,
                "link": jnp.zeros((self.num_layers, batch_size, W, 2 * F), jnp.float32)}

    def step(self, cache, x_prev_B):
        if self.step_mode == "naive":
            t, x = cache["t"], cache["x_BxD"]
            x = jnp.where(t > 0, x.at[:, jnp.maximum(t - 1, 0)].set(x_prev_B.astype(x.dtype)), x)
            out = self(x, cache["cond_B"] if self.num_classes else None)
            return jax.lax.dynamic_index_in_dim(out, t, axis=1, keepdims=False), dict(cache, t=t + 1, x_BxD=x)
        return self._step_cached(cache, x_prev_B)

    def _vertical_row(self, cache, i):
        """Vertical stacks of every layer for row i (all inputs are rows < i): new v caches and links."""
        v_in, links = list(cache["v_in"]), []
        for l in range(self.num_layers):
            c = self.kernel_of(l) // 2
            rows = jax.lax.dynamic_slice_in_dim(v_in[l], i, c + 1, axis=1)       # padded rows i..i+c
            ev, eh = self._cond_bias(l, cache["cond_B"])
            ev = ev if not self.num_classes else ev[:, None, None, :]
            eh = eh if not self.num_classes else eh[:, None, :]
            v_pre = self.conv_v[l].valid(rows) + ev                               # [B, 1, W, 2F]
            links.append(self.link[l](v_pre[:, 0]) + eh)                          # [B, W, 2F]
            if l + 1 < self.num_layers:
                cn = self.kernel_of(l + 1) // 2
                v_in[l + 1] = jax.lax.dynamic_update_slice(v_in[l + 1], gate(v_pre), (0, i + cn, cn, 0))
        return v_in, jnp.stack(links)

    def _step_cached(self, cache, x_prev_B):
        W = self.width
        t = cache["t"]
        prev = jnp.maximum(t - 1, 0)
        i, j = t // W, t % W
        c0 = self.first_kernel // 2
        px_B = jnp.where(t > 0, encode_pixels(x_prev_B, self.levels), 0.0)
        # the previous pixel enters layer 0's vertical input (an image) ...
        v0 = write_pixel(cache["v_in"][0], px_B[:, None], prev // W, prev % W, c0, c0)
        # ... and layer 0's horizontal input (the current row; a new row starts empty)
        h0 = jnp.where(j == 0, 0.0, write_pixel(cache["h_in"][0], px_B[:, None], 0, prev % W, 0, c0))
        cache = dict(cache, v_in=[v0] + list(cache["v_in"][1:]))
        v_in, links = jax.lax.cond(j == 0, lambda cc: self._vertical_row(cc, i),
                                   lambda cc: (cc["v_in"], cc["link"]), cache)
        h_in, h = [h0], None
        for l in range(self.num_layers):
            c = self.kernel_of(l) // 2
            if l > 0:
                h_in.append(write_pixel(cache["h_in"][l], h, 0, j, 0, c))
            win = window(h_in[l], 0, j, 1, c + 1)
            link_BxF = jax.lax.dynamic_index_in_dim(links[l], j, axis=1, keepdims=False)
            h_pre = self.conv_h[l].patch(win) + link_BxF
            h = self.h_out[l](gate(h_pre)) + (h if l > 0 else 0.0)
        return self._head(h), {"t": t + 1, "cond_B": cache["cond_B"], "v_in": v_in, "h_in": h_in, "link": links}


@register("gated_pixelcnn", tiny={"height": 2, "width": 4, "features": 4, "num_layers": 2,
                                  "first_kernel": 3, "head_features": 8})
def build(height: int = 28, width: int = 28, levels: int = 2, features: int = 16, num_layers: int = 5,
          first_kernel: int = 7, kernel: int = 3, head_features: int = 32, num_classes: int = 0,
          step_mode: str = "cached") -> ImageARModel:
    check_image_config(height, width, levels, step_mode, features=features, num_layers=num_layers,
                       head_features=head_features, first_kernel=first_kernel, kernel=kernel)
    if num_classes < 0:
        raise errors.ConfigError(f"num_classes must be >= 0 (0 = unconditional), got {num_classes}")
    for name, k in (("first_kernel", first_kernel), ("kernel", kernel)):
        if k % 2 == 0:
            raise errors.ConfigError(f"{name} must be odd, got {k}")
    net = GatedPixelCNNNet(height, width, levels, features, num_layers, first_kernel, kernel, head_features,
                           num_classes, step_mode)
    return ImageARModel(net, height * width, pixel_dist(levels), num_classes, height=height, width=width)


@register("gated_pixelcnn_conditional", tiny={"height": 2, "width": 3, "features": 4, "num_layers": 2,
                                              "first_kernel": 3, "head_features": 8, "num_classes": 3})
def build_conditional(num_classes: int = 10, **kwargs) -> ImageARModel:
    """Class-conditional Gated PixelCNN (a label embedding added in every layer)."""
    if num_classes < 1:
        raise errors.ConfigError(f"a conditional model needs num_classes >= 1, got {num_classes}")
    return build(num_classes=num_classes, **kwargs)
