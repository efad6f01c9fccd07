// SPDX-License-Identifier: Apache-2.0
// Test oracle for `netwright eval`: runs an exported classifier with onnxruntime-node (Microsoft's
// runtime) on the samples of uncompressed IDX files, normalised as the trainer does
// (x·(scale/std) − mean/std in float32), and prints every sample's predicted class (the first of
// equal top scores) and the confusion matrix (rows true, columns predicted) as JSON.
// Usage: node ort_confusion.js MODEL IMAGES LABELS SCALE MEAN STD SAMPLE_SHAPE (e.g. 1,28,28)
const fs = require('fs');
const ort = require('onnxruntime-node');

function readIdx(file) {
    const b = fs.readFileSync(file);
    if (b[0] !== 0 || b[1] !== 0 || b[2] !== 8)
        throw new Error(`${file}: not an unsigned-byte IDX file`);
    const rank = b[3];
    const dims = [];
    for (let i = 0; i < rank; ++i)
        dims.push(b.readUInt32BE(4 + 4 * i));
    return {dims, data: b.subarray(4 + 4 * rank)};
}

(async () => {
    const [model, imagesFile, labelsFile, scaleText, meanText, stdText, shapeText] = process.argv.slice(2);
    const images = readIdx(imagesFile), labels = readIdx(labelsFile);
    const n = labels.dims[0];
    const sample = shapeText.split(',').map(Number);
    const per = sample.reduce((a, d) => a * d, 1);
    const f = Math.fround;
    const std = f(Number(stdText));
    const a = f(f(Number(scaleText)) / std), c = f(-f(Number(meanText)) / std);
    const session = await ort.InferenceSession.create(model);
    const predictions = [];
    let classes = 0;
    const batch = 250;
    for (let start = 0; start < n; start += batch) {
        const rows = Math.min(batch, n - start);
        const x = new Float32Array(rows * per);
        for (let i = 0; i < x.length; ++i)
            x[i] = f(f(images.data[start * per + i] * a) + c);
        const result = await session.run({[session.inputNames[0]]: new ort.Tensor('float32', x, [rows, ...sample])});
        const out = result[session.outputNames[0]];
        classes = out.dims[1];
        for (let r = 0; r < rows; ++r) {
            let best = 0;
            for (let k = 1; k < classes; ++k)
                if (out.data[r * classes + k] > out.data[r * classes + best])
                    best = k;
            predictions.push(best);
        }
    }
    const confusion = Array.from({length: classes}, () => new Array(classes).fill(0));
    for (let i = 0; i < n; ++i)
        confusion[labels.data[i]][predictions[i]] += 1;
    console.log(JSON.stringify({predictions, confusion}));
})().catch((e) => {
    console.error(String(e));
    process.exit(1);
});
