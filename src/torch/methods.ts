// Method forms of the ops, for chaining: x.relu().mul(w).sum()
import {
  abs,
  add,
  argmax,
  clone,
  contiguous,
  detach,
  div,
  exp,
  flatten,
  log,
  logSoftmax,
  mean,
  mul,
  narrow,
  neg,
  norm,
  permute,
  pow,
  relu,
  reshape,
  softmax,
  sqrt,
  square,
  sub,
  sum,
  to,
  transpose,
} from './ops.js';
import { type Device, type DType, Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    add(b: Tensor | number, alpha?: number): Tensor;
    sub(b: Tensor | number, alpha?: number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    pow(e: number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    relu(): Tensor;
    sum(dim?: number | readonly number[], keepdim?: boolean): Tensor;
    mean(dim?: number | readonly number[], keepdim?: boolean): Tensor;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    norm(p?: number, dim?: number | readonly number[], keepdim?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(d0: number, d1: number): Tensor;
    flatten(start?: number, end?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    contiguous(channelsLast?: boolean): Tensor;
    to(o: { dtype?: DType; device?: Device; copy?: boolean }): Tensor;
  }
}
const P = Tensor.prototype;
P.add = function (b, alpha) {
  return add(this, b, alpha);
};
P.sub = function (b, alpha) {
  return sub(this, b, alpha);
};
P.mul = function (b) {
  return mul(this, b);
};
P.div = function (b) {
  return div(this, b);
};
P.pow = function (e) {
  return pow(this, e);
};
P.neg = function () {
  return neg(this);
};
P.exp = function () {
  return exp(this);
};
P.log = function () {
  return log(this);
};
P.sqrt = function () {
  return sqrt(this);
};
P.abs = function () {
  return abs(this);
};
P.square = function () {
  return square(this);
};
P.relu = function () {
  return relu(this);
};
P.sum = function (dim, keepdim) {
  return sum(this, dim, keepdim);
};
P.mean = function (dim, keepdim) {
  return mean(this, dim, keepdim);
};
P.argmax = function (dim, keepdim) {
  return argmax(this, dim, keepdim);
};
P.norm = function (p, dim, keepdim) {
  return norm(this, p, dim, keepdim);
};
P.reshape = function (shape) {
  return reshape(this, shape);
};
P.permute = function (dims) {
  return permute(this, dims);
};
P.transpose = function (d0, d1) {
  return transpose(this, d0, d1);
};
P.flatten = function (start, end) {
  return flatten(this, start, end);
};
P.narrow = function (dim, start, length) {
  return narrow(this, dim, start, length);
};
P.softmax = function (dim) {
  return softmax(this, dim);
};
P.logSoftmax = function (dim) {
  return logSoftmax(this, dim);
};
P.clone = function () {
  return clone(this);
};
P.detach = function () {
  return detach(this);
};
P.contiguous = function (channelsLast) {
  return contiguous(this, channelsLast);
};
P.to = function (o) {
  return to(this, o);
};
