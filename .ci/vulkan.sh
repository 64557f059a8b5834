#!/usr/bin/env bash
# Installs Mesa's lavapipe (a CPU Vulkan driver) when no Vulkan driver is present, so the
# webgpu tests run instead of skipping. Idempotent; a machine with a GPU driver is left alone.
set -euo pipefail
# Debian 12's own mesa-vulkan-drivers (22.x) ships a lavapipe that Dawn rejects: it counts as no driver.
mesa=$(dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null || true)
mesa=${mesa#*:}
old_mesa=$([ -n "$mesa" ] && [ "${mesa%%.*}" -lt 24 ] && echo 1 || true)
for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d; do
  if [ -z "$old_mesa" ] && compgen -G "$dir/*.json" >/dev/null; then
    echo "vulkan: driver present ($(ls "$dir" | tr '\n' ' '))"
    exit 0
  fi
done
command -v apt-get >/dev/null || { echo "vulkan: no driver and no apt-get; the webgpu tests will skip" >&2; exit 0; }
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
. /etc/os-release
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  # Backports from the mirror this machine already uses for bookworm itself.
  mirror=$(awk '/^URIs:/ {uri=$2} /^Suites:/ && / bookworm( |$)/ {print uri; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { echo "vulkan: no bookworm mirror found in the apt sources" >&2; exit 1; }
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" |
      $SUDO tee /etc/apt/sources.list.d/catvae-backports.sources >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
else
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
echo "vulkan: installed $(dpkg-query -W -f '${Package} ${Version}' mesa-vulkan-drivers)"
