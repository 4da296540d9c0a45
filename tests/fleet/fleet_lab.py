"""A fleet on one machine, for the fleet test, the demo and the benchmark.

nginx on 127.0.0.1 serves a signed repository holding the KB967131 sample's bundles, and one
sshd per server listens on 127.0.0.2, 127.0.0.3, ...: each server is an Ansible host of its
own, reached over real SSH, whose hotfix root is a copy of a sample server image. Every
process is started here, by absolute path, and stopped by its pid; every wait is bounded.
Nothing is sent to an address outside 127.0.0.0/8. Needs root (sshd, logins as root).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

SSHD = "/usr/sbin/sshd"
NGINX = "/usr/sbin/nginx"
ANSIBLE_PLAYBOOK = "/usr/bin/ansible-playbook"
ANSIBLE_GALAXY = "/usr/bin/ansible-galaxy"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
HOTFIX = "KB967131"

NGINX_CONF = """user root;
worker_processes 1;
pid "{prefix}/nginx.pid";
lock_file "{prefix}/nginx.lock";
error_log "{prefix}/error.log" info;
events {{ worker_connections 64; }}
http {{
  access_log "{prefix}/access.log";
  client_body_temp_path "{prefix}/client_body_temp";
  proxy_temp_path "{prefix}/proxy_temp";
  fastcgi_temp_path "{prefix}/fastcgi_temp";
  uwsgi_temp_path "{prefix}/uwsgi_temp";
  scgi_temp_path "{prefix}/scgi_temp";
  default_type application/octet-stream;
  sendfile on;
  server {{
    listen 127.0.0.1:{port};
    root "{root}";
  }}
}}
"""

SSHD_CONF = """ListenAddress {address}:{port}
HostKey {dir}/ssh_host_ed25519_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {lab}/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 64:30:128
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
"""

# As a reboot does to an image: its /run is emptied (the installer's boot marker with it)
# and the machine has a new boot id, which ansible.builtin.reboot waits to see change.
SIMULATE_REBOOT = """#!/bin/sh
set -eu
root="$1"
if [ -d "$root/run" ]; then find "$root/run" -mindepth 1 -delete; fi
cat /proc/sys/kernel/random/uuid > "$root.boot-id"
"""

ANSIBLE_CFG = """[defaults]
inventory = {lab}/inventory.ini
collections_path = {collections}
host_key_checking = False
forks = 8
timeout = 10
retry_files_enabled = False
interpreter_python = /usr/bin/python3
local_tmp = {lab}/ansible-local
remote_tmp = /tmp/.ansible-fleet-lab
[ssh_connection]
ssh_args = -o ControlMaster=no -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o ConnectTimeout=5
pipelining = True
retries = 0
"""


class Host(object):
    def __init__(self, name, address, image, tweak=None):
        self.name = name
        self.address = address
        self.image = image  # the sample root it is a copy of: x64, x86, ia64
        self.tweak = tweak  # a change to its system.json, or None
        self.root = None
        self.process = None


def default_hosts(count=8):
    """Eight servers: x64 at the versions before the hotfix, one x86, one whose prerequisites
    fail (Windows Server 2008 without SP1) and one of an architecture no bundle is for."""
    specs = [("web%d" % i, "x64", None) for i in range(1, 6)]
    specs += [("app1", "x86", None), ("legacy1", "x64", {"product": "Windows Vista", "service_pack": 0, "version": "6.0.6000"}),
              ("arm1", "x64", {"architecture": "arm64"})]
    if count <= 4:
        specs = [specs[0], specs[1], specs[5], specs[6]][:count]
    return [Host(n, "127.0.0.%d" % (i + 2), image, tweak)
            for i, (n, image, tweak) in enumerate(specs[:count])]


def free_port(address):
    """A port free on `address` now (the caller binds it next; a race is retried there)."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def wait_for_port(address, port, process, what, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("%s exited with %s before it listened" % (what, process.returncode))
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %s:%d in %.0f s" % (what, address, port, seconds))


def run(cmd, **kw):
    """Runs a command to completion (bounded), failing loudly with its output."""
    kw.setdefault("timeout", 600)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


class FleetLab(object):
    def __init__(self, lab, build, source, hosts=None):
        self.lab = os.path.abspath(lab)
        self.build = os.path.abspath(build)
        self.source = os.path.abspath(source)
        self.installer = os.path.join(self.build, "installer/hotfix-installer")
        self.packager = os.path.join(self.build, "packager/hotfix-packager")
        self.standins = os.path.join(self.build, "samples/make-standins")
        self.hosts = hosts or default_hosts()
        self.nginx = None
        self.http_port = None
        self.ssh_port = None
        self.collections = os.path.join(self.lab, "collections")
        self.repo = os.path.join(self.lab, "www/repo")

    # ---- the repository -------------------------------------------------------------

    def publish(self):
        """Stand-in drops, keys, the three signed bundles, a repository holding them."""
        p = self.packager
        run([self.standins, "--manifest", self.sample_manifest(), "--out", self.path("sample")])
        keys = self.path("keys")
        for k in ("release", "root", "online"):
            run([p, "keygen", "--out", os.path.join(keys, k)])
        drops = self.path("sample/drops")
        run([p, "build", self.sample_manifest()] +
            ["--drop=%s=%s/%s" % (a, drops, a) for a in ("x86", "x64", "ia64")] +
            ["--key", os.path.join(keys, "release.key"), "--out", self.path("bundles")])
        run([p, "repo", "init", self.repo, "--root-key", os.path.join(keys, "root.key"),
             "--targets-key", os.path.join(keys, "release.key"),
             "--online-key", os.path.join(keys, "online.key")])
        bundles = sorted(os.path.join(self.path("bundles"), b) for b in os.listdir(self.path("bundles")))
        run([p, "repo", "add", self.repo] + bundles + self.signing())

    def signing(self):
        keys = self.path("keys")
        return ["--targets-key", os.path.join(keys, "release.key"),
                "--online-key", os.path.join(keys, "online.key")]

    def refresh(self, timestamp_expiry=None):
        """The publisher's daily job; with an expiry such as '1s', metadata that goes stale."""
        extra = ["--timestamp-expiry", timestamp_expiry] if timestamp_expiry else []
        run([self.packager, "repo", "refresh", self.repo, "--online-key",
             os.path.join(self.path("keys"), "online.key")] + extra)

    def sample_manifest(self):
        return os.path.join(self.source, "samples", HOTFIX, "hotfix.json")

    def start_nginx(self):
        prefix = self.path("nginx")
        os.makedirs(prefix, exist_ok=True)
        for attempt in range(5):
            self.http_port = free_port("127.0.0.1")
            with open(os.path.join(prefix, "nginx.conf"), "w") as f:
                f.write(NGINX_CONF.format(prefix=prefix, port=self.http_port, root=self.path("www")))
            self.nginx = subprocess.Popen(
                [NGINX, "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_for_port("127.0.0.1", self.http_port, self.nginx, "nginx")
                return
            except RuntimeError:
                self.nginx.kill()
                self.nginx.wait(10)
                if attempt == 4:
                    raise

    @property
    def repo_url(self):
        return "http://127.0.0.1:%d/repo" % self.http_port

    # ---- the servers ----------------------------------------------------------------

    def make_roots(self, place=None):
        """Each host's root: a copy of its sample image, taking the repository as source."""
        for h in self.hosts:
            h.root = os.path.join(place(h) if place else self.path("hosts"), h.name)
            if os.path.exists(h.root):
                shutil.rmtree(h.root)
            os.makedirs(os.path.dirname(h.root), exist_ok=True)
            shutil.copytree(self.path("sample/roots", h.image), h.root, symlinks=True)
            if h.tweak:
                system = os.path.join(h.root, "etc/hotfix/system.json")
                with open(system) as f:
                    facts = json.load(f)
                facts.update(h.tweak)
                with open(system, "w") as f:
                    json.dump(facts, f, indent=2)
            run([self.installer, "source", "add", "corp", self.repo_url, "--root", h.root,
                 "--root-metadata", os.path.join(self.repo, "metadata/1.root.json")])

    def start_sshd(self):
        ssh = self.path("ssh")
        os.makedirs(ssh, exist_ok=True)
        key = os.path.join(ssh, "id_ed25519")
        if not os.path.exists(key):
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", key])
        shutil.copy(key + ".pub", os.path.join(ssh, "authorized_keys"))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation
        self.ssh_port = self.ssh_port or free_port("127.0.0.2")
        for h in self.hosts:
            self.start_host(h)

    def start_host(self, h):
        d = self.path("ssh", h.name)
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(os.path.join(d, "ssh_host_ed25519_key")):
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f",
                 os.path.join(d, "ssh_host_ed25519_key")])
        conf = os.path.join(d, "sshd_config")
        with open(conf, "w") as f:
            f.write(SSHD_CONF.format(address=h.address, port=self.ssh_port, dir=d, lab=self.lab))
        h.process = subprocess.Popen([SSHD, "-D", "-e", "-f", conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "sshd.log"), "a"))
        wait_for_port(h.address, self.ssh_port, h.process, "sshd for " + h.name)

    def stop_host(self, h):
        """The server goes away: its sshd and every session it started."""
        if h.process and h.process.poll() is None:
            h.process.terminate()
            try:
                h.process.wait(10)
            except subprocess.TimeoutExpired:
                h.process.kill()
                h.process.wait(10)
        h.process = None

    def write_ansible_files(self):
        with open(self.path("simulate-reboot"), "w") as f:
            f.write(SIMULATE_REBOOT)
        os.chmod(self.path("simulate-reboot"), 0o755)
        lines = ["[fleet]"]
        for h in self.hosts:
            lines.append(
                "%s ansible_host=%s hotfix_root=%s hotfix_reboot_command='%s %s' "
                "hotfix_boot_time_command='cat %s.boot-id 2>/dev/null || echo never'"
                % (h.name, h.address, h.root, self.path("simulate-reboot"), h.root, h.root))
        lines += ["", "[fleet:vars]", "ansible_user=root", "ansible_port=%d" % self.ssh_port,
                  "ansible_ssh_private_key_file=%s" % self.path("ssh/id_ed25519"),
                  "ansible_python_interpreter=/usr/bin/python3",
                  "hotfix_executable=%s" % self.installer]
        with open(self.path("inventory.ini"), "w") as f:
            f.write("\n".join(lines) + "\n")
        os.makedirs(self.path("ansible-local"), exist_ok=True)
        with open(self.path("ansible.cfg"), "w") as f:
            f.write(ANSIBLE_CFG.format(lab=self.lab, collections=self.collections))

    def install_collection(self):
        """The collection as users get it: built into a tarball, installed from it offline."""
        src = os.path.join(self.source, "ansible/ansible_collections/hotfix/fleet")
        out = self.path("galaxy")
        os.makedirs(out, exist_ok=True)
        run([ANSIBLE_GALAXY, "collection", "build", src, "--output-path", out, "--force"],
            env=self.ansible_env())
        tarball = [os.path.join(out, t) for t in os.listdir(out) if t.endswith(".tar.gz")][0]
        run([ANSIBLE_GALAXY, "collection", "install", tarball, "-p", self.collections,
             "--force", "--offline"], env=self.ansible_env())
        return tarball

    # ---- Ansible --------------------------------------------------------------------

    def ansible_env(self):
        env = dict(os.environ)
        env.update(ANSIBLE_CONFIG=self.path("ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOME=self.path("ansible-home"), ANSIBLE_LOCAL_TEMP=self.path("ansible-local"))
        env.pop("ANSIBLE_COLLECTIONS_PATH", None)
        return env

    def playbook(self, name, extra_vars=None, check=False, diff=False, json_output=True,
                 during=None, timeout=900):
        """Runs one of the collection's playbooks (hotfix.fleet.NAME). With json_output, the
        parsed result of Ansible's json callback; `during` is called, bounded, while the
        playbook runs, until it returns True."""
        cmd = [ANSIBLE_PLAYBOOK, "hotfix.fleet." + name]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env = self.ansible_env()
        if json_output:
            env["ANSIBLE_STDOUT_CALLBACK"] = "fleet_json"
            env["ANSIBLE_CALLBACK_PLUGINS"] = os.path.join(os.path.dirname(__file__), "callback_plugins")
        proc = subprocess.Popen(cmd, env=env, cwd=self.lab, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while during is not None and proc.poll() is None and time.monotonic() < deadline:
            if during():
                break
            time.sleep(0.05)
        try:
            out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise RuntimeError("ansible-playbook %s ran over %d s\n%s" % (name, timeout, err))
        return PlaybookRun(proc.returncode, out, err, json_output)

    def path(self, *parts):
        return os.path.join(self.lab, *parts)

    def host(self, name):
        return [h for h in self.hosts if h.name == name][0]

    def installer_json(self, *args):
        r = subprocess.run([self.installer] + list(args) + ["--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        return json.loads(r.stdout)

    def start(self, place=None):
        self.publish()
        self.start_nginx()
        self.make_roots(place)
        self.start_sshd()
        self.write_ansible_files()
        return self.install_collection()

    def stop(self):
        for h in self.hosts:
            self.stop_host(h)
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(10)


class PlaybookRun(object):
    """What ansible-playbook said: exit code, and with the json callback, per host and task."""

    def __init__(self, rc, out, err, parsed):
        self.rc, self.out, self.err = rc, out, err
        self.data = json.loads(out) if parsed and out.strip() else None

    @property
    def stats(self):
        return self.data["stats"] if self.data else {}

    def batches(self):
        """The hosts of each play as run: with serial, one entry per wave."""
        out = []
        for play in self.data["plays"]:
            hosts = []
            for task in play["tasks"]:
                for h in task["hosts"]:
                    if h not in hosts:
                        hosts.append(h)
            out.append(hosts)
        return out

    def results(self, task_name):
        """host -> result of every run of the task of that name, across waves."""
        out = {}
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == task_name:
                    out.update(task["hosts"])
        return out

    def describe(self):
        return "exit %d\n--- stdout\n%s\n--- stderr\n%s" % (self.rc, self.out[-20000:], self.err[-5000:])


if __name__ == "__main__":
    sys.exit("a library: see tests/fleet/fleet_test.py")
