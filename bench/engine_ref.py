# Reference side of `npm run bench -- engine`: the same workloads in Python torch, timed on request.
# Protocol: one line per request on stdin ("block", "conv", "adds", "quit"), one line of ms on stdout.
import sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
cl = torch.channels_last

def block_setup():
    x = torch.randn(64, 16, 32, 32).contiguous(memory_format=cl)
    ws = {k: torch.randn(*s, requires_grad=True) for k, s in {
        'dw1': (16, 1, 3, 3), 'pw1': (16, 16, 1, 1), 'dw2': (16, 1, 3, 3), 'pw2': (16, 16, 1, 1),
        'dwd': (16, 1, 5, 5), 'pwd': (16, 16, 1, 1)}.items()}
    alpha = torch.zeros(5, requires_grad=True)
    lin = torch.randn(10, 16, requires_grad=True)
    y = torch.randint(0, 10, (64,))
    return x, ws, alpha, lin, y

def bn(z):
    return F.batch_norm(z, None, None, training=True)

def block(x, ws, alpha, lin, y):
    w = F.softmax(alpha, 0)
    s = bn(F.conv2d(F.conv2d(F.relu(x), ws['dw1'], padding=1, groups=16), ws['pw1']))
    s = bn(F.conv2d(F.conv2d(F.relu(s), ws['dw2'], padding=1, groups=16), ws['pw2']))
    d = bn(F.conv2d(F.conv2d(F.relu(x), ws['dwd'], padding=4, dilation=2, groups=16), ws['pwd']))
    m = F.max_pool2d(x, 3, 1, 1)
    a = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    out = w[0] * s + w[1] * d + w[2] * m + w[3] * a + w[4] * x
    loss = F.cross_entropy(F.linear(F.adaptive_avg_pool2d(out, 1).flatten(1), lin), y)
    loss.backward()

B = block_setup()
cx = torch.randn(64, 64, 32, 32).contiguous(memory_format=cl)
cw = torch.randn(64, 64, 3, 3, requires_grad=True)
one = torch.ones(1)

def run(kind):
    t0 = time.perf_counter()
    if kind == 'block':
        block(*B)
    elif kind == 'conv':
        F.conv2d(cx, cw, padding=1).sum().backward()
    elif kind == 'adds':
        z = one
        for _ in range(10000):
            z = z + one
    return (time.perf_counter() - t0) * 1000

for line in sys.stdin:
    kind = line.strip()
    if kind == 'quit':
        break
    print(f'{run(kind):.4f}', flush=True)
