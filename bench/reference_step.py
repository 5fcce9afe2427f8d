# Reference side of `npm run bench -- reference`: one search step of quark0/darts's own code
# (cnn/model_search.py, cnn/architect.py, the body of train_search.py's train()) on random
# CIFAR-shaped data, timed on request. The checkout is not part of lbt: its cnn/ folder is given
# as argv[1] (LBT_DARTS_REF). `.cuda()` is stubbed out (CPU), as darts-family.md measured it.
# Protocol: argv = cnn_dir threads batch C layers; one request per stdin line
# ("darts-2nd", "darts-1st", "quit"), one line of JSON {"ms", "maxRssMiB"} on stdout.
import json, resource, sys, time
from types import SimpleNamespace

cnn_dir, threads, batch, C, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, cnn_dir)
import warnings
warnings.filterwarnings('ignore')
import torch
import torch.nn as nn

torch.Tensor.cuda = lambda self, *a, **k: self
nn.Module.cuda = lambda self, *a, **k: self
torch.set_num_threads(threads)
torch.manual_seed(0)

from model_search import Network  # noqa: E402
from architect import Architect  # noqa: E402

args = SimpleNamespace(momentum=0.9, weight_decay=3e-4, arch_learning_rate=3e-4, arch_weight_decay=1e-3)
criterion = nn.CrossEntropyLoss()
model = Network(C, 10, layers, criterion)
model.train()
optimizer = torch.optim.SGD(model.parameters(), 0.025, momentum=0.9, weight_decay=3e-4)
architect = Architect(model, args)
x_tr, y_tr = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
x_va, y_va = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
lr = 0.025


def step(unrolled):
    # train_search.py train(), one iteration
    architect.step(x_tr, y_tr, x_va, y_va, lr, optimizer, unrolled=unrolled)
    optimizer.zero_grad()
    logits = model(x_tr)
    loss = criterion(logits, y_tr)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5)
    optimizer.step()


warm = set()
for line in sys.stdin:
    kind = line.strip()
    if kind == 'quit':
        break
    unrolled = kind == 'darts-2nd'
    if kind not in warm:  # the first step of each kind builds oneDNN primitives and momentum buffers
        step(unrolled)
        warm.add(kind)
    t0 = time.perf_counter()
    step(unrolled)
    ms = (time.perf_counter() - t0) * 1e3
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps({'ms': ms, 'maxRssMiB': rss}) + '\n')
    sys.stdout.flush()
