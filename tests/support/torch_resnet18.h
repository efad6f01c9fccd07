// SPDX-License-Identifier: Apache-2.0
// The resnet18 the export tests share: torchvision's, random weights (seed 1), exported by
// Debian's PyTorch to ONNX at opset 13 with a dynamic batch, input [N,3,64,64]. Test support.
#pragma once

#include <QProcess>
#include <QString>

namespace netwright::test {

// Writes `path`; false when PyTorch fails (its stderr goes to the test log).
inline bool exportTorchResnet18(const QString &path)
{
    QProcess py;
    py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    py.start("/usr/bin/python3", {"-c", "import torch, torchvision; torch.manual_seed(1); m = torchvision.models.resnet18(num_classes=10).eval(); "
                                        "torch.onnx.export(m, torch.randn(1, 3, 64, 64), '" + path + "', opset_version=13, "
                                        "input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'b'}, 'output': {0: 'b'}})"});
    return py.waitForFinished(300000) && py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0;
}

} // namespace netwright::test
