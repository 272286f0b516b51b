# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Source me: `source scripts/env.sh [kilted|jazzy]`. Activates the environment that
# scripts/bootstrap built and sources the colcon install tree (as `source install/setup.bash`
# would on a robot).
# colcon's setup scripts read unset variables: relax `set -u` while sourcing them.
case "$-" in *u*) _vfr_nounset=1; set +u ;; *) _vfr_nounset=0 ;; esac
_vfr_distro="${1:-kilted}"
_vfr_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1090,SC1091
source "$_vfr_root/.venv/$_vfr_distro/bin/activate"
# shellcheck disable=SC1090,SC1091
source "$_vfr_root/install/$_vfr_distro/setup.bash"
export VFR_DISTRO="$_vfr_distro"
[ "$_vfr_nounset" = 1 ] && set -u
unset _vfr_distro _vfr_root _vfr_nounset
