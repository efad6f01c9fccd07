// SPDX-License-Identifier: Apache-2.0
// Test oracle: runs an ONNX model with onnxruntime-node (Microsoft's runtime, CPU build bundled)
// on a raw little-endian float32 input and writes the first output the same way.
// Usage: node ort_run.js MODEL INPUT.bin DIMS(comma-separated) OUTPUT.bin
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
    const [model, inputPath, dims, outputPath] = process.argv.slice(2);
    const session = await ort.InferenceSession.create(model);
    const buffer = fs.readFileSync(inputPath);
    const data = new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
    const input = new ort.Tensor('float32', data, dims.split(',').map(Number));
    const result = await session.run({[session.inputNames[0]]: input});
    const out = result[session.outputNames[0]];
    fs.writeFileSync(outputPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
    console.log(JSON.stringify({dims: out.dims}));
})().catch((e) => {
    console.error(String(e));
    process.exit(1);
});
