#!/usr/bin/env bash
# Builds the GPU test bundle (../shared/GPU.md) into .device/ at the repository root: a jlinked Java runtime, the
# class path of gpu-udf alone (its runtime and test dependencies with JCuda's natives, JUnit's launcher API and
# DeviceTests, the small runner over it),
# its classes, test classes and PTX. Run here, where the JDK and Maven are; carry .device/ (ignored by git) to the
# GPU host and run gpu-udf/device/run.sh there. The bundle must stay under 64 MiB; this script checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=.device
junit_platform=${JUNIT_PLATFORM_VERSION:-1.14.1}
slf4j=$(sed -n 's:.*<slf4j.version>\(.*\)</slf4j.version>.*:\1:p' pom.xml)
mvn_flags=(-B -ntp -q ${MVN_OFFLINE:+-o})

command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] || {
  echo "prepare.sh: no nvcc here, so the bundle would carry no PTX; install the CUDA toolkit or put nvcc on the PATH" >&2
  exit 1
}
rm -rf "$out"
mkdir -p "$out/lib"
echo "[prepare] building gpu-udf (classes, test classes, PTX)"
mvn "${mvn_flags[@]}" -pl gpu-udf -am package -DskipTests \
  dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$root/$out/lib" -Dmdep.useBaseVersion=true
# the schemas module's jar (a reactor sibling, not in any repository) and gpu-udf's own classes
cp schemas/target/exegpt-schemas-*.jar "$out/lib/"
rm -f "$out"/lib/exegpt-gpu-udf-*.jar
# log4j-core needs java.desktop (java.beans), which the jlinked runtime leaves out: slf4j-simple logs instead
rm -f "$out"/lib/log4j-*.jar
# JUnit's launcher API (in the offline repository, where the console launcher's standalone jar is not)
for artifact in "org.junit.platform:junit-platform-launcher:$junit_platform" "org.slf4j:slf4j-simple:$slf4j"; do
  mvn "${mvn_flags[@]}" -pl gpu-udf dependency:copy -Dartifact="$artifact" -DoutputDirectory="$root/$out/lib"
done
cp -r gpu-udf/target/classes "$out/classes"
cp -r gpu-udf/target/test-classes "$out/test-classes"
javac --release 17 -d "$out/launcher" -cp "$out/lib/*" gpu-udf/device/DeviceTests.java
test -f "$out/classes/dev/exegpt/runtime/cuda/exegpt_kernels.ptx" || { echo "prepare.sh: the build made no PTX" >&2; exit 1; }

echo "[prepare] jlink: a Java runtime for a host without a JDK"
tmp=$(mktemp -d)
jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$tmp/jre"
tar czf "$out/jre.tgz" -C "$tmp" jre
rm -rf "$tmp"

bytes=$(du -sb "$out" | cut -f1)
echo "[prepare] $out: $((bytes / 1024 / 1024)) MiB ($(ls "$out/lib" | wc -l) jars)"
if (( bytes > 64 * 1024 * 1024 )); then
  echo "prepare.sh: the bundle is over 64 MiB; it cannot be carried" >&2
  exit 1
fi
