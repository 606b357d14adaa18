# The logic of docker-py's tests/integration/api_network_test.py and models_networks_test.py, run by
# test/integration/clients-networks.test.js with Debian's python3-docker (/usr/bin/python3) against a test berthd:
# busybox for alpine; without the swarm-only cases (overlay, attachable, ingress, swarm scope) and the teardown's
# swarm leave; without test_create_with_links and test_connect_with_links, whose link aliases on a user network
# resolve in moby's per-container DNS and which aardvark-dns (one view of names per network) cannot give.
# Prints {test name: "ok" or the traceback} as JSON.
import json, random, string, sys, traceback
import docker
from docker.types import IPAMConfig, IPAMPool

IMG = 'busybox'
client = docker.APIClient(version='1.41', timeout=60, **docker.utils.kwargs_from_env())
high = docker.from_env(version='1.41')
tmp_containers, tmp_networks = [], []


def random_name():
    return 'dockerpytest_' + ''.join(random.choice(string.ascii_lowercase) for _ in range(10))


def create_network(*args, **kwargs):
    name = random_name()
    nid = client.create_network(name, *args, **kwargs)['Id']
    tmp_networks.append(nid)
    return name, nid


def create_and_start(image=IMG, command='top', **kwargs):
    c = client.create_container(image=image, command=command, **kwargs)
    tmp_containers.append(c)
    client.start(c)
    return c


def execute(container, cmd, exit_code=0):
    exc = client.exec_create(container, cmd)
    output = client.exec_start(exc)
    got = client.exec_inspect(exc)['ExitCode']
    assert got == exit_code, 'Expected `%s` to exit with %d but returned %d:\n%s' % (' '.join(cmd), exit_code, got, output)


def raises(exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc:
        return
    raise AssertionError('%s not raised' % exc.__name__)


def test_list_networks():
    client.networks()
    net_name, net_id = create_network()
    assert net_id in [n['Id'] for n in client.networks()]
    assert [n['Id'] for n in client.networks(names=[net_name])] == [net_id]
    assert [n['Id'] for n in client.networks(ids=[net_id[:8]])] == [net_id]


def test_inspect_network():
    net_name, net_id = create_network()
    net = client.inspect_network(net_id)
    assert net['Id'] == net_id and net['Name'] == net_name
    assert net['Driver'] == 'bridge' and net['Scope'] == 'local' and net['IPAM']['Driver'] == 'default'


def test_create_network_with_ipam_config():
    _, net_id = create_network(ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(
        subnet='172.28.0.0/16', iprange='172.28.5.0/24', gateway='172.28.5.254',
        aux_addresses={'a': '172.28.1.5', 'b': '172.28.1.6', 'c': '172.28.1.7'})]))
    ipam = client.inspect_network(net_id)['IPAM']
    assert ipam.pop('Options', None) is None
    assert ipam['Driver'] == 'default'
    assert ipam['Config'] == [{'Subnet': '172.28.0.0/16', 'IPRange': '172.28.5.0/24', 'Gateway': '172.28.5.254',
                               'AuxiliaryAddresses': {'a': '172.28.1.5', 'b': '172.28.1.6', 'c': '172.28.1.7'}}], ipam['Config']


def test_create_network_with_host_driver_fails():
    raises(docker.errors.APIError, client.create_network, random_name(), driver='host')


def test_remove_network():
    net_name, net_id = create_network()
    assert net_name in [n['Name'] for n in client.networks()]
    client.remove_network(net_id)
    assert net_name not in [n['Name'] for n in client.networks()]


def test_connect_and_disconnect_container():
    net_name, net_id = create_network()
    container = client.create_container(IMG, 'top')
    tmp_containers.append(container)
    client.start(container)
    assert not client.inspect_network(net_id).get('Containers')
    client.connect_container_to_network(container, net_id)
    assert list(client.inspect_network(net_id)['Containers'].keys()) == [container['Id']]
    raises(docker.errors.APIError, client.connect_container_to_network, container, net_id)
    client.disconnect_container_from_network(container, net_id)
    assert not client.inspect_network(net_id).get('Containers')
    raises(docker.errors.APIError, client.disconnect_container_from_network, container, net_id)


def test_connect_and_force_disconnect_container():
    net_name, net_id = create_network()
    container = client.create_container(IMG, 'top')
    tmp_containers.append(container)
    client.start(container)
    assert not client.inspect_network(net_id).get('Containers')
    client.connect_container_to_network(container, net_id)
    assert list(client.inspect_network(net_id)['Containers'].keys()) == [container['Id']]
    client.disconnect_container_from_network(container, net_id, True)
    assert not client.inspect_network(net_id).get('Containers')
    raises(docker.errors.APIError, client.disconnect_container_from_network, container, net_id, force=True)


def test_connect_with_aliases():
    net_name, net_id = create_network()
    container = client.create_container(IMG, 'top')
    tmp_containers.append(container)
    client.start(container)
    client.connect_container_to_network(container, net_id, aliases=['foo', 'bar'])
    aliases = client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['Aliases']
    assert 'foo' in aliases and 'bar' in aliases


def test_connect_on_container_create():
    net_name, net_id = create_network()
    container = client.create_container(image=IMG, command='top', host_config=client.create_host_config(network_mode=net_name))
    tmp_containers.append(container)
    client.start(container)
    assert list(client.inspect_network(net_id)['Containers'].keys()) == [container['Id']]
    client.disconnect_container_from_network(container, net_id)
    assert not client.inspect_network(net_id).get('Containers')


def test_create_with_aliases():
    net_name, net_id = create_network()
    container = client.create_container(image=IMG, command='top', host_config=client.create_host_config(network_mode=net_name),
                                        networking_config=client.create_networking_config({net_name: client.create_endpoint_config(aliases=['foo', 'bar'])}))
    tmp_containers.append(container)
    client.start(container)
    aliases = client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['Aliases']
    assert 'foo' in aliases and 'bar' in aliases


def test_create_with_ipv4_address():
    net_name, net_id = create_network(ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='132.124.0.0/16')]))
    container = client.create_container(image=IMG, command='top', host_config=client.create_host_config(network_mode=net_name),
                                        networking_config=client.create_networking_config({net_name: client.create_endpoint_config(ipv4_address='132.124.0.23')}))
    tmp_containers.append(container)
    client.start(container)
    assert client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['IPAMConfig']['IPv4Address'] == '132.124.0.23'


def test_create_with_ipv6_address():
    net_name, net_id = create_network(enable_ipv6=True, ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='2001:389::/64')]))
    container = client.create_container(image=IMG, command='top', host_config=client.create_host_config(network_mode=net_name),
                                        networking_config=client.create_networking_config({net_name: client.create_endpoint_config(ipv6_address='2001:389::f00d')}))
    tmp_containers.append(container)
    client.start(container)
    assert client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['IPAMConfig']['IPv6Address'] == '2001:389::f00d'


def test_create_with_linklocal_ips():
    container = client.create_container(IMG, 'top', networking_config=client.create_networking_config(
        {'bridge': client.create_endpoint_config(link_local_ips=['169.254.8.8'])}), host_config=client.create_host_config(network_mode='bridge'))
    tmp_containers.append(container)
    client.start(container)
    net_cfg = client.inspect_container(container)['NetworkSettings']['Networks']['bridge']
    assert 'IPAMConfig' in net_cfg and 'LinkLocalIPs' in (net_cfg['IPAMConfig'] or {}), net_cfg
    assert net_cfg['IPAMConfig']['LinkLocalIPs'] == ['169.254.8.8']
    execute(container, ['sh', '-c', 'ip -4 addr show eth0 | grep -q "inet 169.254.8.8/16"'])


def test_create_with_driveropt():
    container = client.create_container(IMG, 'top', networking_config=client.create_networking_config(
        {'bridge': client.create_endpoint_config(driver_opt={'com.docker-py.setting': 'on'})}), host_config=client.create_host_config(network_mode='bridge'))
    tmp_containers.append(container)
    client.start(container)
    net_cfg = client.inspect_container(container)['NetworkSettings']['Networks']['bridge']
    assert net_cfg['DriverOpts']['com.docker-py.setting'] == 'on'


def test_create_check_duplicate():
    net_name, net_id = create_network()
    raises(docker.errors.APIError, client.create_network, net_name, check_duplicate=True)


def test_connect_with_ipv4_address():
    net_name, net_id = create_network(ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='172.28.0.0/16', iprange='172.28.5.0/24', gateway='172.28.5.254')]))
    container = create_and_start(host_config=client.create_host_config(network_mode=net_name))
    client.disconnect_container_from_network(container, net_name)
    client.connect_container_to_network(container, net_name, ipv4_address='172.28.5.24')
    assert client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['IPAMConfig']['IPv4Address'] == '172.28.5.24'


def test_connect_with_ipv6_address():
    net_name, net_id = create_network(enable_ipv6=True, ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='2001:389::/64', iprange='2001:389::0/96', gateway='2001:389::ffff')]))
    container = create_and_start(host_config=client.create_host_config(network_mode=net_name))
    client.disconnect_container_from_network(container, net_name)
    client.connect_container_to_network(container, net_name, ipv6_address='2001:389::f00d')
    assert client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['IPAMConfig']['IPv6Address'] == '2001:389::f00d'


def test_connect_with_mac_address():
    net_name, net_id = create_network()
    container = client.create_container(IMG, 'top')
    tmp_containers.append(container)
    # docker-py 5.0.3 has no mac_address argument yet: what its newer connect_container_to_network sends.
    client._raise_for_status(client._post_json(client._url('/networks/{0}/connect', net_id), data={
        'Container': container['Id'], 'EndpointConfig': client.create_endpoint_config(mac_address='02:42:ac:11:00:02')
        if 'mac_address' in client.create_endpoint_config.__code__.co_varnames else {'MacAddress': '02:42:ac:11:00:02'}}))
    assert client.inspect_container(container)['NetworkSettings']['Networks'][net_name]['MacAddress'] == '02:42:ac:11:00:02'


def test_create_internal_networks():
    _, net_id = create_network(internal=True)
    assert client.inspect_network(net_id)['Internal'] is True


def test_create_network_with_labels():
    _, net_id = create_network(labels={'com.docker.py.test': 'label'})
    net = client.inspect_network(net_id)
    assert net['Labels'] == {'com.docker.py.test': 'label'}


def test_create_network_with_labels_wrong_type():
    raises(TypeError, create_network, labels=['com.docker.py.test=label'])


def test_create_network_ipv6_enabled():
    _, net_id = create_network(enable_ipv6=True, ipam=IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='2001:389::/64', iprange='2001:389::0/96', gateway='2001:389::ffff')]))
    assert client.inspect_network(net_id)['EnableIPv6'] is True


def test_prune_networks():
    net_name, _ = create_network()
    assert net_name in client.prune_networks()['NetworksDeleted']


def test_create_inspect_network_with_scope_local():
    net_name_loc, _ = create_network(scope='local')
    assert client.inspect_network(net_name_loc)
    assert client.inspect_network(net_name_loc, scope='local')
    raises(docker.errors.NotFound, client.inspect_network, net_name_loc, scope='global')


def test_create_remove_network_with_space_in_name():
    net_id = client.create_network('test 01')
    tmp_networks.append(net_id)
    assert client.inspect_network('test 01')
    assert client.remove_network('test 01') is None


# models_networks_test.py
def test_models_create():
    name = random_name()
    network = high.networks.create(name, labels={'foo': 'bar'})
    tmp_networks.append(network.id)
    assert network.name == name and network.attrs['Labels']['foo'] == 'bar'


def test_models_get():
    name = random_name()
    network_id = high.networks.create(name).id
    tmp_networks.append(network_id)
    assert high.networks.get(network_id).name == name


def test_models_list_remove():
    name = random_name()
    network = high.networks.create(name)
    tmp_networks.append(network.id)
    assert network.id in [n.id for n in high.networks.list()]
    assert network.id not in [n.id for n in high.networks.list(ids=['fdhjklfdfdshjkfds'])]
    assert network.id in [n.id for n in high.networks.list(ids=[network.id])]
    assert network.id not in [n.id for n in high.networks.list(names=['fdshjklfdsjhkl'])]
    assert network.id in [n.id for n in high.networks.list(names=[name])]
    network.remove()
    assert network.id not in [n.id for n in high.networks.list()]


def test_models_connect_disconnect():
    network = high.networks.create(random_name())
    tmp_networks.append(network.id)
    container = high.containers.create(IMG, 'sleep 300')
    tmp_containers.append(container.id)
    assert network.containers == []
    network.connect(container)
    container.start()
    assert high.networks.get(network.id).containers == [container]
    assert [c for net in high.networks.list(ids=[network.id], greedy=True) for c in net.containers] == [container]
    network.disconnect(container)
    assert network.containers == []
    assert high.networks.get(network.id).containers == []


def teardown():
    for c in tmp_containers:
        try:
            client.remove_container(c, force=True, v=True)
        except docker.errors.APIError:
            pass
    for n in tmp_networks:
        try:
            client.remove_network(n)
        except docker.errors.APIError:
            pass
    del tmp_containers[:]
    del tmp_networks[:]


results = {}
only = sys.argv[1:]
for name, fn in list(globals().items()):
    if not name.startswith('test_') or (only and name not in only):
        continue
    try:
        fn()
        results[name] = 'ok'
    except Exception:
        results[name] = traceback.format_exc(limit=3)
    finally:
        teardown()
print(json.dumps(results))
