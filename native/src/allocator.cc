// A caching CPU allocator for tensor storage.
//
// Measured here: with glibc malloc, a loop that creates and frees same-sized tensors from
// Node grows RSS without bound (≈ one storage per iteration, with or without mallopt), and a
// DARTS supernet forward+backward grew RSS by 0.75-1.4 GB per step once its working set passed
// what the heap could reuse. So: training loops allocate the same sizes every step, blocks are
// kept in per-size free lists and reused; large blocks (>= 256 KiB) come from mmap and go back to
// the system when the cache is full, so nothing fragments the heap. The cache is capped
// (LBT_CPU_CACHE_MB; default half of physical memory) and can be emptied.
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor.h"

namespace lbt {
namespace {

constexpr size_t kAlign = 64;  // the header keeps data 64-byte aligned, as libtorch's own allocator

constexpr size_t kLarge = 1u << 18;  // blocks from here on are mmap'd

struct Header {
  size_t size;
};

void* SystemAlloc(size_t size) {
  if (size + kAlign >= kLarge) {
    void* p = mmap(nullptr, size + kAlign, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  return std::aligned_alloc(kAlign, size + kAlign);
}

void SystemFree(void* base, size_t size) {
  if (size + kAlign >= kLarge) {
    munmap(base, size + kAlign);
  } else {
    std::free(base);
  }
}

std::mutex mu;
std::unordered_map<size_t, std::vector<void*>> freeLists;
size_t cachedBytes = 0;
size_t capBytes = 0;
size_t inUseBytes = 0;  // tensor storage handed out and not yet released (for the peak)
size_t peakBytes = 0;

size_t RoundUp(size_t n) {
  const size_t q = n < (1u << 16) ? 256 : 4096;
  return (n + q - 1) / q * q;
}

void Release(void* data) {
  if (data == nullptr) return;
  void* base = static_cast<char*>(data) - kAlign;
  size_t size = static_cast<Header*>(base)->size;
  {
    std::lock_guard<std::mutex> lock(mu);
    inUseBytes -= size;
    if (cachedBytes + size <= capBytes) {
      freeLists[size].push_back(base);
      cachedBytes += size;
      return;
    }
  }
  SystemFree(base, size);
}

struct CachingCpuAllocator final : public c10::Allocator {
  c10::DataPtr Make(size_t n) const {
    if (n == 0) return {nullptr, nullptr, &Release, c10::Device(c10::DeviceType::CPU)};
    size_t size = RoundUp(n);
    void* base = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu);
      inUseBytes += size;
      if (inUseBytes > peakBytes) peakBytes = inUseBytes;
      auto it = freeLists.find(size);
      if (it != freeLists.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
        cachedBytes -= size;
      }
    }
    if (base == nullptr) {
      base = SystemAlloc(size);
      if (base == nullptr) {
        std::lock_guard<std::mutex> lock(mu);
        inUseBytes -= size;
        throw std::bad_alloc();
      }
      static_cast<Header*>(base)->size = size;
    }
    void* data = static_cast<char*>(base) + kAlign;
    return {data, data, &Release, c10::Device(c10::DeviceType::CPU)};
  }
  // libtorch 1.x declares allocate() const; 2.x makes it non-const and adds copy_data().
  // Declaring both forms (without `override`) compiles against either.
  c10::DataPtr allocate(size_t n) const { return Make(n); }
  c10::DataPtr allocate(size_t n) { return Make(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }
  c10::DeleterFnPtr raw_deleter() const override { return &Release; }
};

CachingCpuAllocator allocator;

}  // namespace

void InstallCpuAllocator() {
  const char* env = std::getenv("LBT_CPU_CACHE_MB");
  long physMb = sysconf(_SC_PHYS_PAGES) / 1024 * sysconf(_SC_PAGE_SIZE) / 1024;
  long mb = env ? std::atol(env) : (physMb > 0 ? physMb / 2 : 2048);
  capBytes = static_cast<size_t>(mb < 0 ? 0 : mb) << 20;
  if (env != nullptr && mb == 0) return;  // LBT_CPU_CACHE_MB=0: libtorch's default allocator
  c10::SetAllocator(c10::DeviceType::CPU, &allocator, /*priority=*/10);
}

size_t EmptyCpuCache() {
  std::lock_guard<std::mutex> lock(mu);
  size_t freed = cachedBytes;
  for (auto& kv : freeLists) {
    for (void* p : kv.second) SystemFree(p, kv.first);
  }
  freeLists.clear();
  cachedBytes = 0;
  return freed;
}

size_t PeakCpuBytes(bool reset) {
  std::lock_guard<std::mutex> lock(mu);
  size_t peak = peakBytes;
  if (reset) peakBytes = inUseBytes;
  return peak;
}

size_t CachedCpuBytes() {
  std::lock_guard<std::mutex> lock(mu);
  return cachedBytes;
}

}  // namespace lbt
