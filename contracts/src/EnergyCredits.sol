// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * Energy credits of one microgrid. Token id = interval start in unix seconds;
 * one unit = 1 Wh of metered surplus exported in that interval (DESIGN.md).
 *
 * Each interval is committed once: the Merkle roots of its trades, of the
 * signed meter readings behind them and of its credit chunks, the totals and
 * the hash of the engine's rule set. A commitment writes one storage slot, its
 * keccak256 (a fresh slot is 22,100 gas, most of a commitment's cost); the full
 * commitment is in the `Committed` event and is passed back with every chunk,
 * where it is checked against the stored hash, so its totals need no slot of
 * their own. A chunk is minted only with a Merkle proof that it belongs to the
 * committed credits root, only once (a bitmap), and never beyond the committed
 * total. The minting progress (minted Wh, the committed total and chunk count
 * copied from the commitment, the bits of chunks 0..31) is one slot, which the
 * first chunk writes: it is new then anyway, as the bitmap was.
 */
contract EnergyCredits is ERC1155, AccessControl, Pausable {
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    struct Commitment {
        uint64 interval; // interval start, unix seconds = token id
        bytes32 tradesRoot; // Merkle root of the interval's trades
        bytes32 readingsRoot; // Merkle root of the signed readings behind them
        bytes32 creditsRoot; // Merkle root of the credit chunks
        bytes32 ruleSet; // keccak256 of the engine's rule set (canonical JSON)
        uint96 exportWh; // metered export = credits to mint
        uint96 matchedWh; // part of it matched to buyers
        uint32 chunks; // number of credit chunks
    }

    /// Chunks whose minted bit lives in `_progress`; chunk 32 on uses `_chunkBits`.
    uint256 private constant HEAD_CHUNKS = 32;
    uint256 private constant HEAD_MASK = (1 << HEAD_CHUNKS) - 1;

    /// keccak256(abi.encode(commitment)); zero = not committed. The only slot a commitment writes.
    mapping(uint256 interval => bytes32) public commitmentHash;
    /// mintedWh << 160 | totalWh << 64 | chunks << 32 | bit `chunk` for chunks 0..31; zero until the first chunk
    mapping(uint256 interval => uint256) private _progress;
    /// chunk bitmap past the head: bit ((chunk - 32) % 256) of word ((chunk - 32) / 256)
    mapping(uint256 interval => mapping(uint256 word => uint256)) private _chunkBits;
    /// retired (claimed) credits per interval and holder
    mapping(uint256 interval => mapping(address holder => uint256)) public retired;

    event Committed(
        uint256 indexed interval,
        bytes32 tradesRoot,
        bytes32 readingsRoot,
        bytes32 creditsRoot,
        bytes32 ruleSet,
        uint96 exportWh,
        uint96 matchedWh,
        uint32 chunks
    );
    event ChunkMinted(uint256 indexed interval, uint32 indexed chunk, uint256 recipients, uint256 wh);
    event Retired(address indexed holder, uint256 indexed interval, uint256 wh, bytes32 claim);

    error AlreadyCommitted(uint256 interval);
    error Conflict(uint256 interval, bytes32 committed, bytes32 offered);
    error NotCommitted(uint256 interval);
    error EmptyCommitment(uint256 interval);
    error ChunkAlreadyMinted(uint256 interval, uint32 chunk);
    error ChunkOutOfRange(uint256 interval, uint32 chunk, uint32 chunks);
    error InvalidChunkProof(uint256 interval, uint32 chunk);
    error OverMint(uint256 interval, uint256 committedWh, uint256 wouldBeWh);
    error ZeroRecipient(uint256 interval, uint32 chunk, uint256 index);

    constructor(address admin, address settler, string memory uri_) ERC1155(uri_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _grantRole(SETTLER_ROLE, settler);
    }

    /// Commits an interval once. The same commitment again: AlreadyCommitted; another: Conflict.
    function commit(Commitment calldata c) external onlyRole(SETTLER_ROLE) whenNotPaused {
        bytes32 h = keccak256(abi.encode(c));
        bytes32 existing = commitmentHash[c.interval];
        if (existing != bytes32(0)) {
            if (existing == h) revert AlreadyCommitted(c.interval);
            revert Conflict(c.interval, existing, h);
        }
        if (c.exportWh == 0 || c.chunks == 0) revert EmptyCommitment(c.interval);
        commitmentHash[c.interval] = h;
        emit Committed(c.interval, c.tradesRoot, c.readingsRoot, c.creditsRoot, c.ruleSet, c.exportWh, c.matchedWh, c.chunks);
    }

    /**
     * Mints one chunk of credits. `packed[i]` = amount << 160 | recipient: one
     * word per recipient keeps calldata at 32 bytes each. The chunk leaf is
     * keccak256(abi.encodePacked(interval, chunk, packed)).
     */
    function mintChunk(Commitment calldata c, uint32 chunk, bytes32[] calldata proof, uint256[] calldata packed)
        external
        onlyRole(SETTLER_ROLE)
        whenNotPaused
    {
        uint256 id = c.interval;
        _checkCommitment(c);
        if (chunk >= c.chunks) revert ChunkOutOfRange(id, chunk, c.chunks);
        uint256 state = _progress[id];
        if (chunk < HEAD_CHUNKS) {
            uint256 bit = 1 << chunk;
            if (state & bit != 0) revert ChunkAlreadyMinted(id, chunk);
            state |= bit;
        } else {
            uint256 word = (chunk - HEAD_CHUNKS) >> 8;
            uint256 bit = 1 << ((chunk - HEAD_CHUNKS) & 255);
            uint256 bits = _chunkBits[id][word];
            if (bits & bit != 0) revert ChunkAlreadyMinted(id, chunk);
            _chunkBits[id][word] = bits | bit;
        }
        bytes32 leaf = keccak256(abi.encodePacked(c.interval, chunk, packed));
        if (!MerkleProof.verifyCalldata(proof, c.creditsRoot, leaf)) revert InvalidChunkProof(id, chunk);
        uint256 sum = _mintAll(id, chunk, packed);
        // the total comes from the commitment, authenticated by its stored hash above
        uint256 minted = (state >> 160) + sum;
        if (minted > c.exportWh) revert OverMint(id, c.exportWh, minted);
        _progress[id] = (minted << 160) | (uint256(c.exportWh) << 64) | (uint256(c.chunks) << 32) | (state & HEAD_MASK);
        emit ChunkMinted(id, chunk, packed.length, sum);
    }

    /// Reverts unless `c` is the interval's stored commitment.
    function _checkCommitment(Commitment calldata c) private view {
        bytes32 h = commitmentHash[c.interval];
        if (h == bytes32(0)) revert NotCommitted(c.interval);
        bytes32 offered = keccak256(abi.encode(c));
        if (h != offered) revert Conflict(c.interval, h, offered);
    }

    /// Mints each packed (amount << 160 | recipient) word; returns the sum.
    function _mintAll(uint256 id, uint32 chunk, uint256[] calldata packed) private returns (uint256 sum) {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = id;
        for (uint256 i; i < packed.length; ++i) {
            uint256 w = packed[i];
            address to = address(uint160(w));
            if (to == address(0)) revert ZeroRecipient(id, chunk, i);
            uint256 amount = w >> 160;
            values[0] = amount;
            sum += amount;
            // ERC1155._update, not _mint: recipients are participant accounts named by the
            // operator, and the ERC-1155 receiver call (a cold account access each)
            // would cost more than the balance itself. See ARCHITECTURE.md. Not this
            // contract's _update either: mintChunk has checked the pause once already,
            // and a check per recipient is gas the batch does not need.
            ERC1155._update(address(0), to, ids, values);
        }
    }

    /// True when `chunk` of `interval` has been minted.
    function chunkMinted(uint256 interval, uint32 chunk) external view returns (bool) {
        if (chunk < HEAD_CHUNKS) return _progress[interval] & (1 << chunk) != 0;
        uint256 k = chunk - HEAD_CHUNKS;
        return _chunkBits[interval][k >> 8] & (1 << (k & 255)) != 0;
    }

    /**
     * Minting progress of an interval: its committed total and chunk count (as
     * the first chunk recorded them from the verified commitment; all zero
     * before any chunk: whether it is committed is `commitmentHash`), the Wh
     * minted so far and how many chunks.
     */
    function intervals(uint256 interval)
        external
        view
        returns (uint96 totalWh, uint96 mintedWh, uint32 chunks, uint32 chunksMinted)
    {
        uint256 state = _progress[interval];
        chunks = uint32(state >> 32);
        uint256 n = _popcount(state & HEAD_MASK);
        if (chunks > HEAD_CHUNKS) {
            uint256 words = (uint256(chunks) - HEAD_CHUNKS + 255) >> 8;
            for (uint256 w; w < words; ++w) n += _popcount(_chunkBits[interval][w]);
        }
        return (uint96(state >> 64), uint96(state >> 160), chunks, uint32(n));
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) ++n;
    }

    /// Burns the caller's credits against its own consumption and records the claim.
    function retire(uint256 interval, uint256 wh, bytes32 claim) external whenNotPaused {
        _burn(msg.sender, interval, wh);
        retired[interval][msg.sender] += wh;
        emit Retired(msg.sender, interval, wh, claim);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// Transfers and burns stop while paused too.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override whenNotPaused {
        super._update(from, to, ids, values);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
