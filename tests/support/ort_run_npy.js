// SPDX-License-Identifier: Apache-2.0
// Test oracle: runs an ONNX model with onnxruntime-node (Microsoft's runtime, CPU build bundled) on
// named inputs read from NumPy .npy files (any numeric element type, or bool) and writes every
// output as OUTDIR/output_<k>.npy in the model's output order — the files `netwright run` writes.
// Usage: node ort_run_npy.js MODEL OUTDIR NAME=FILE.npy …
// Prints {"outputs": [{"name", "type", "dims"}…]} on success; the error and exit 1 otherwise.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// .npy descr (little-endian or byte-order-free) <-> onnxruntime tensor type and typed array.
const kinds = {
    '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
    '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array], '<i2': ['int16', Int16Array],
    '|i1': ['int8', Int8Array], '<u8': ['uint64', BigUint64Array], '<u4': ['uint32', Uint32Array],
    '<u2': ['uint16', Uint16Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
    const b = fs.readFileSync(file);
    if (b.toString('latin1', 0, 6) !== '\x93NUMPY')
        throw new Error(`${file}: not a .npy file`);
    const major = b[6];
    const headerLength = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
    const start = (major === 1 ? 10 : 12) + headerLength;
    const header = b.toString('latin1', major === 1 ? 10 : 12, start);
    const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
    if (/'fortran_order':\s*True/.test(header))
        throw new Error(`${file}: Fortran order is not supported`);
    const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
    const kind = kinds[descr];
    if (!kind)
        throw new Error(`${file}: element type ${descr} is not supported`);
    const [type, Typed] = kind;
    const count = dims.reduce((a, d) => a * d, 1);
    // Copy into an aligned buffer: the data of a .npy starts at any offset.
    const bytes = new Uint8Array(count * Typed.BYTES_PER_ELEMENT);
    bytes.set(b.subarray(start, start + bytes.length));
    const data = new Typed(bytes.buffer);
    return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data, (v) => v !== 0) : data, dims);
}

function writeNpy(file, tensor) {
    const descr = Object.keys(kinds).find((k) => kinds[k][0] === tensor.type);
    if (!descr)
        throw new Error(`output element type ${tensor.type} is not supported`);
    const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const prefix = Buffer.alloc(10);
    prefix.write('\x93NUMPY', 0, 'latin1');
    prefix[6] = 1;
    prefix[7] = 0;
    prefix.writeUInt16LE(header.length, 8);
    const data = tensor.data;
    const body = tensor.type === 'bool' ? Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)))
                                        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

(async () => {
    const [model, outDir, ...inputs] = process.argv.slice(2);
    const session = await ort.InferenceSession.create(model);
    const feeds = {};
    for (const arg of inputs) {
        const eq = arg.indexOf('=');
        feeds[arg.slice(0, eq)] = readNpy(arg.slice(eq + 1));
    }
    const result = await session.run(feeds);
    fs.mkdirSync(outDir, {recursive: true});
    const outputs = session.outputNames.map((name, k) => {
        writeNpy(path.join(outDir, `output_${k}.npy`), result[name]);
        return {name, type: result[name].type, dims: result[name].dims};
    });
    console.log(JSON.stringify({outputs}));
})().catch((e) => {
    console.error(String(e));
    process.exit(1);
});
