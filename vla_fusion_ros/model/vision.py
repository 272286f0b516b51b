# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Vision encoders that expose f_v^(i), the tokens after every layer, for fusion to read.

Both encoders take images [B, C, H, W] as floats in [0, 1] and work layer by layer, so the
fusion model can interleave fusion between layers::

    tokens, grid = encoder.stem(images)           # [B, N, D], (h, w) with N = h * w
    tokens, grid = encoder.layers[i](tokens, grid)

The grid travels with the tokens so that convolutional layers can reshape them back to maps.
"""

from typing import Dict, List, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from .attention import TransformerBlock
from .config import VisionConfig

Grid = Tuple[int, int]


def to_tokens(x: torch.Tensor) -> Tuple[torch.Tensor, Grid]:
    """Turn a feature map [B, D, h, w] into tokens [B, h*w, D] (row-major) and its grid."""
    return x.flatten(2).transpose(1, 2), (x.shape[2], x.shape[3])


def to_map(tokens: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Turn tokens [B, h*w, D] back into a feature map [B, D, h, w]."""
    return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], *grid)


def coord_channels(x: torch.Tensor) -> torch.Tensor:
    """Return the (x, y) coordinates in [-1, 1] of every pixel of ``x``, as [B, 2, H, W]."""
    B, _, H, W = x.shape
    xs = torch.linspace(-1.0, 1.0, W, device=x.device, dtype=x.dtype)
    ys = torch.linspace(-1.0, 1.0, H, device=x.device, dtype=x.dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')  # [H, W] each
    return torch.stack([grid_x, grid_y]).expand(B, 2, H, W)


def make_norm(kind: str, groups: int, width: int) -> nn.Module:
    """Return a batch-independent norm for conv maps: 'group', 'layer' (one group) or 'none'."""
    if kind == 'group':
        return nn.GroupNorm(groups, width)
    if kind == 'layer':
        return nn.GroupNorm(1, width)
    return nn.Identity()


class ConvStem(nn.Module):
    """3x3 stride-2 conv over the image (plus CoordConv channels), then norm and ReLU."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.coords = cfg.coord_channels
        in_channels = cfg.in_channels + (2 if self.coords else 0)
        self.conv = nn.Conv2d(in_channels, cfg.width, 3, stride=2, padding=1)
        self.norm = make_norm(cfg.norm, cfg.norm_groups, cfg.width)

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, Grid]:
        """Map images [B, C, H, W] in [0, 1] to tokens [B, H/2 * W/2, D] and their grid."""
        x = images * 2.0 - 1.0  # [B, C, H, W] in [-1, 1]
        if self.coords:
            x = torch.cat([x, coord_channels(x)], dim=1)  # [B, C+2, H, W]
        return to_tokens(F.relu(self.norm(self.conv(x))))


class ConvBlock(nn.Module):
    """Pre-activation residual block: two 3x3 convs; stride 2 halves the grid (avg-pool skip)."""

    def __init__(self, cfg: VisionConfig, stride: int):
        super().__init__()
        width = cfg.width
        self.stride = stride
        self.norm_1 = make_norm(cfg.norm, cfg.norm_groups, width)
        self.conv_1 = nn.Conv2d(width, width, 3, stride=stride, padding=1)
        self.norm_2 = make_norm(cfg.norm, cfg.norm_groups, width)
        self.conv_2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, tokens: torch.Tensor, grid: Grid) -> Tuple[torch.Tensor, Grid]:
        """Update tokens [B, h*w, D] on grid (h, w); return the new tokens and grid."""
        x = to_map(tokens, grid)  # [B, D, h, w]
        h = self.conv_1(F.relu(self.norm_1(x)))  # [B, D, h/s, w/s]
        h = self.conv_2(F.relu(self.norm_2(h)))  # [B, D, h/s, w/s]
        skip = F.avg_pool2d(x, 2) if self.stride == 2 else x
        return to_tokens(skip + h)


class PlainConvBlock(nn.Module):
    """One 3x3 conv, norm and ReLU (post-activation, as in a classic small CNN)."""

    def __init__(self, cfg: VisionConfig, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(cfg.width, cfg.width, 3, stride=stride, padding=1)
        self.norm = make_norm(cfg.norm, cfg.norm_groups, cfg.width)

    def forward(self, tokens: torch.Tensor, grid: Grid) -> Tuple[torch.Tensor, Grid]:
        """Update tokens [B, h*w, D] on grid (h, w); return the new tokens and grid."""
        return to_tokens(F.relu(self.norm(self.conv(to_map(tokens, grid)))))


class PatchEmbed(nn.Module):
    """Cut the image into square patches, embed each, add learned positions."""

    def __init__(self, in_channels: int, image_size: int, patch_size: int, width: int):
        super().__init__()
        side = image_size // patch_size
        self.proj = nn.Conv2d(in_channels, width, patch_size, stride=patch_size)
        self.pos = nn.Parameter(torch.zeros(1, side * side, width))

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, Grid]:
        """Map images [B, C, H, W] in [0, 1] to tokens [B, (H/p)*(W/p), D] and their grid."""
        tokens, grid = to_tokens(self.proj(images * 2.0 - 1.0))  # [B, N, D]
        return tokens + self.pos, grid


class ViTLayer(TransformerBlock):
    """A pre-norm transformer block with the encoder's (tokens, grid) interface."""

    def forward(self, tokens: torch.Tensor, grid: Grid) -> Tuple[torch.Tensor, Grid]:
        """Update tokens [B, N, D]; the grid is unchanged."""
        return super().forward(tokens), grid


class ConvVisionEncoder(nn.Module):
    """CoordConv stem, then GroupNorm conv layers (plain or residual); some halve the grid."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.width = cfg.width
        self.stem = ConvStem(cfg)
        block = ConvBlock if cfg.block == 'residual' else PlainConvBlock
        self.layers = nn.ModuleList(
            block(cfg, 2 if i in cfg.downsample else 1) for i in range(cfg.depth))

    def forward(self, images: torch.Tensor) -> Tuple[List[torch.Tensor], List[Grid]]:
        """Return f_v^(i) for every layer i (tokens [B, N_i, D]) and the grids."""
        return run_layers(self, images)


class ViTVisionEncoder(nn.Module):
    """Patch embedding and pre-norm transformer blocks over the patch tokens."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.width = cfg.width
        self.stem = PatchEmbed(cfg.in_channels, cfg.image_size, cfg.patch_size, cfg.width)
        self.layers = nn.ModuleList(ViTLayer(cfg.width, cfg.heads) for _ in range(cfg.depth))

    def forward(self, images: torch.Tensor) -> Tuple[List[torch.Tensor], List[Grid]]:
        """Return f_v^(i) for every layer i (tokens [B, N, D]) and the grids."""
        return run_layers(self, images)


def run_layers(encoder: nn.Module, images: torch.Tensor):
    """Run the stem and every layer, collecting each layer's tokens and grid."""
    tokens, grid = encoder.stem(images)
    features, grids = [], []
    for layer in encoder.layers:
        tokens, grid = layer(tokens, grid)
        features.append(tokens)
        grids.append(grid)
    return features, grids


VISION_ENCODERS: Dict[str, type] = {'cnn': ConvVisionEncoder, 'vit': ViTVisionEncoder}


def create_vision_encoder(cfg: VisionConfig) -> nn.Module:
    """Build the encoder named by ``cfg.kind``."""
    return VISION_ENCODERS[cfg.kind](cfg)
