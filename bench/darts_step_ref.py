# PyTorch-eager side of scripts/gpu-check.sh: one DARTS-2nd search step on the C=16, 8-cell
# supernet (32x32x3 inputs, 10 classes), written the way the DARTS reference code works (our own
# code, same structure): a MixedOp sums every primitive weighted by softmax(alpha); the architect
# copies the model for the unrolled weights w' = w - xi*(momentum + dL_train/dw + wd*w), takes
# dL_val(w', alpha) and corrects dalpha by the finite-difference Hessian-vector product with
# w +- R*v perturbed in place; then the weights take one SGD step (momentum 0.9, wd 3e-4, clip 5).
# Prints one JSON line: {"msPerStep", "peakAllocatedMiB", "steps", "device", "torch"}.
#   python3 bench/darts_step_ref.py [--device cuda] [--steps 5] [--batch 64] [--channels 16] [--layers 8]
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMITIVES = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5',
              'dil_conv_3x3', 'dil_conv_5x5']


def relu_conv_bn(c_in, c_out, k, stride, pad, dilation=1, groups=1):
    return [nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, k, stride, pad, dilation=dilation, groups=groups, bias=False)]


def dil_conv(c_in, c_out, k, stride, pad, dilation):
    return nn.Sequential(*relu_conv_bn(c_in, c_in, k, stride, pad, dilation, c_in),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out, affine=False))


def sep_conv(c_in, c_out, k, stride, pad):
    return nn.Sequential(dil_conv(c_in, c_in, k, stride, pad, 1), dil_conv(c_in, c_out, k, 1, pad, 1))


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x.mul(0.) if self.stride == 1 else x[:, :, ::self.stride, ::self.stride].mul(0.)


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(name, c, stride):
    if name == 'none':
        return Zero(stride)
    if name == 'max_pool_3x3':
        return nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.BatchNorm2d(c, affine=False))
    if name == 'avg_pool_3x3':
        return nn.Sequential(nn.AvgPool2d(3, stride, 1, count_include_pad=False), nn.BatchNorm2d(c, affine=False))
    if name == 'skip_connect':
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    k = int(name[-1])
    if name.startswith('sep_conv'):
        return sep_conv(c, c, k, stride, k // 2)
    return dil_conv(c, c, k, stride, k - 1, 2)


class MixedOp(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self._ops = nn.ModuleList([make_op(p, c, stride) for p in PRIMITIVES])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self._ops))


class Cell(nn.Module):
    def __init__(self, steps, multiplier, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else nn.Sequential(
            *relu_conv_bn(c_pp, c, 1, 1, 0), nn.BatchNorm2d(c, affine=False))
        self.pre1 = nn.Sequential(*relu_conv_bn(c_p, c, 1, 1, 0), nn.BatchNorm2d(c, affine=False))
        self._steps, self._multiplier = steps, multiplier
        self._ops = nn.ModuleList()
        for i in range(steps):
            for j in range(2 + i):
                self._ops.append(MixedOp(c, 2 if reduction and j < 2 else 1))

    def forward(self, s0, s1, weights):
        states = [self.pre0(s0), self.pre1(s1)]
        offset = 0
        for _ in range(self._steps):
            s = sum(self._ops[offset + j](h, weights[offset + j]) for j, h in enumerate(states))
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self._multiplier:], dim=1)


class Network(nn.Module):
    def __init__(self, c, num_classes, layers, steps=4, multiplier=4, stem_multiplier=3):
        super().__init__()
        self._c, self._num_classes, self._layers = c, num_classes, layers
        self._steps, self._multiplier = steps, multiplier
        c_curr = stem_multiplier * c
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in [layers // 3, 2 * layers // 3]
            if reduction:
                c_curr *= 2
            cell = Cell(steps, multiplier, c_pp, c_p, c_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_p = c_p, multiplier * c_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)
        k = sum(2 + i for i in range(steps))
        self.alphas_normal = (1e-3 * torch.randn(k, len(PRIMITIVES))).requires_grad_(True)
        self.alphas_reduce = (1e-3 * torch.randn(k, len(PRIMITIVES))).requires_grad_(True)

    def arch_parameters(self):
        return [self.alphas_normal, self.alphas_reduce]

    def new(self):
        m = Network(self._c, self._num_classes, self._layers, self._steps, self._multiplier).to(self.alphas_normal.device)
        for x, y in zip(m.arch_parameters(), self.arch_parameters()):
            x.data.copy_(y.data)
        return m

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            w = F.softmax(self.alphas_reduce if cell.reduction else self.alphas_normal, dim=-1)
            s0, s1 = s1, cell(s0, s1, w)
        return self.classifier(self.global_pooling(s1).flatten(1))

    def loss(self, x, y):
        return F.cross_entropy(self(x), y)


class Architect:
    """Second-order DARTS: dalpha = dL_val(w', alpha) - xi * Hessian-vector product (finite differences)."""

    def __init__(self, model, momentum, weight_decay):
        self.model, self.momentum, self.wd = model, momentum, weight_decay
        self.opt = torch.optim.Adam(model.arch_parameters(), lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def _unrolled_model(self, x, y, eta, w_opt):
        params = list(self.model.parameters())
        theta = torch.cat([p.data.view(-1) for p in params])
        try:
            moment = torch.cat([w_opt.state[p]['momentum_buffer'].view(-1) for p in params]) * self.momentum
        except KeyError:
            moment = torch.zeros_like(theta)
        dtheta = torch.cat([g.view(-1) for g in torch.autograd.grad(self.model.loss(x, y), params)]) + self.wd * theta
        return self._model_from(theta - eta * (moment + dtheta))

    def _model_from(self, theta):
        m = self.model.new()
        state, offset = self.model.state_dict(), 0
        for k, v in self.model.named_parameters():
            n = v.numel()
            state[k] = theta[offset:offset + n].view(v.size())
            offset += n
        m.load_state_dict(state)
        return m

    def _hessian_vector(self, vector, x, y, r=1e-2):
        R = r / torch.cat([v.view(-1) for v in vector]).norm()
        params = list(self.model.parameters())
        for p, v in zip(params, vector):
            p.data.add_(v, alpha=R)
        g_pos = torch.autograd.grad(self.model.loss(x, y), self.model.arch_parameters())
        for p, v in zip(params, vector):
            p.data.sub_(v, alpha=2 * R)
        g_neg = torch.autograd.grad(self.model.loss(x, y), self.model.arch_parameters())
        for p, v in zip(params, vector):
            p.data.add_(v, alpha=R)
        return [(a - b).div_(2 * R) for a, b in zip(g_pos, g_neg)]

    def step(self, x_tr, y_tr, x_val, y_val, eta, w_opt):
        self.opt.zero_grad()
        unrolled = self._unrolled_model(x_tr, y_tr, eta, w_opt)
        unrolled.loss(x_val, y_val).backward()
        dalpha = [a.grad for a in unrolled.arch_parameters()]
        vector = [p.grad.data for p in unrolled.parameters()]
        for g, ig in zip(dalpha, self._hessian_vector(vector, x_tr, y_tr)):
            g.data.sub_(ig.data, alpha=eta)
        for a, g in zip(self.model.arch_parameters(), dalpha):
            a.grad = g.data.clone()
        self.opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--channels', type=int, default=16)
    ap.add_argument('--layers', type=int, default=8)
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True  # as the reference's train_search.py
    model = Network(a.channels, 10, a.layers).to(dev)
    for t in model.arch_parameters():
        t.data = t.data.to(dev)
    lr, momentum, wd = 0.025, 0.9, 3e-4
    w_opt = torch.optim.SGD(model.parameters(), lr, momentum=momentum, weight_decay=wd)
    arch = Architect(model, momentum, wd)
    img = lambda: torch.randn(a.batch, 3, 32, 32, device=dev)
    lab = lambda: torch.randint(0, 10, (a.batch,), device=dev)
    x_tr, y_tr, x_val, y_val = img(), lab(), img(), lab()

    def step():
        model.train()
        arch.step(x_tr, y_tr, x_val, y_val, lr, w_opt)
        w_opt.zero_grad()
        loss = model.loss(x_tr, y_tr)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5)
        w_opt.step()

    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    for _ in range(2):
        step()  # warm-up: cuDNN algorithm search, allocator, optimizer state
    sync()
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    sync()
    ms = (time.perf_counter() - start) * 1000 / a.steps
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == 'cuda' else None
    print(json.dumps({'msPerStep': ms, 'peakAllocatedMiB': peak, 'steps': a.steps, 'device': str(dev),
                      'torch': torch.__version__}))


if __name__ == '__main__':
    main()
